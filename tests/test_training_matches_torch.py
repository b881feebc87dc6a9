"""The training loop of examples/train_digits_mlp.py, run side by side with PyTorch from the same
weights: the same losses and parameters after each step."""
import numpy as np
import pytest

import chainrule as cr
from chainrule.utils.data import DataLoader, TensorDataset


def _mlp(nn):  # the example's model
    return nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Dropout(0.3),
                         nn.Linear(128, 64), nn.ReLU(), nn.Linear(64, 10))


def _setup(lib, model, steps):  # the example's optimizer, schedule and loss
    opt = lib.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=1e-4)
    sched = lib.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=steps)
    return opt, sched, lib.nn.CrossEntropyLoss(label_smoothing=0.1)


@pytest.mark.torch
def test_digits_mlp_training_steps_match_torch():
    import torch

    rng = np.random.default_rng(0)  # digits-shaped data: 64 standardised features, 10 classes
    x = rng.standard_normal((96, 64)).astype(np.float32)
    y = rng.integers(0, 10, 96)
    steps = 3
    cr.manual_seed(0)
    cm, tm = _mlp(cr.nn), _mlp(torch.nn)
    tm.load_state_dict({k: torch.tensor(v.numpy().copy()) for k, v in cm.state_dict().items()})
    for m in (cm, tm):  # dropout draws differ between libraries: switch it off, train the rest
        m.train()
        m[2].eval()
    c_opt, c_sched, c_loss = _setup(cr, cm, steps)
    t_opt, t_sched, t_loss = _setup(torch, tm, steps)
    loader = DataLoader(TensorDataset(cr.tensor(x), cr.tensor(y)), batch_size=32, shuffle=True,
                        generator=cr.Generator().manual_seed(0))
    for step, (xb, yb) in enumerate(loader):
        losses = []
        for lib, model, opt, sched, loss_fn in ((cr, cm, c_opt, c_sched, c_loss),
                                                (torch, tm, t_opt, t_sched, t_loss)):
            opt.zero_grad()
            loss = loss_fn(model(lib.tensor(xb.numpy())), lib.tensor(yb.numpy()))
            loss.backward()
            opt.step()
            sched.step()
            losses.append(loss.item())
        assert losses[0] == pytest.approx(losses[1], rel=1e-5), step
        assert c_opt.param_groups[0]["lr"] == pytest.approx(t_opt.param_groups[0]["lr"])
        for (name, cp), tp in zip(cm.named_parameters(), tm.parameters()):
            np.testing.assert_allclose(cp.detach().numpy(), tp.detach().numpy(),
                                       rtol=1e-4, atol=1e-5, err_msg=f"{name}, step {step}")
            # (atol: Adam divides by sqrt(v) + eps, so a gradient entry near eps in size
            # turns float32 rounding differences into update differences of up to ~lr/100)
    assert step == steps - 1
