"""nn modules against torch.nn: same weights (float64), same outputs and gradients.

Every case builds the module in both libraries, copies torch's state_dict into chainrule's
(which also checks that keys and shapes agree), runs forward on the same inputs and backward
with the same upstream gradient, and compares outputs, input gradients and parameter
gradients. A case whose functional op is not implemented yet is skipped, naming the op.
"""
import copy

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn as cnn
from chainrule.nn import init as cinit

RNG = np.random.default_rng(0)


def _r(*shape):
    return RNG.standard_normal(shape)


def _pos(*shape):
    return RNG.uniform(0.05, 0.95, shape)


def _ints(high, *shape):
    return RNG.integers(0, high, shape)


def _signs(*shape):
    return RNG.choice([-1.0, 1.0], shape)


def _ctc_on_logits(nn, **kw):
    class CTCOnLogits(nn.Module):
        def __init__(self):
            super().__init__()
            self.ctc = nn.CTCLoss(**kw)

        def forward(self, logits, *rest):
            return self.ctc(nn.functional.log_softmax(logits, -1), *rest)

    return CTCOnLogits()


# Each case: id, make(nn, T) -> module, inputs: list of (array, differentiable),
# and optionally kw(T) -> forward keyword arguments, mode ("train"/"eval").
CASES = [
    ("Linear", lambda nn, T: nn.Linear(4, 3), [(_r(2, 4), True)]),
    ("Linear-3d-nobias", lambda nn, T: nn.Linear(4, 3, bias=False), [(_r(2, 5, 4), True)]),
    ("Bilinear", lambda nn, T: nn.Bilinear(3, 4, 2), [(_r(5, 3), True), (_r(5, 4), True)]),
    ("Identity", lambda nn, T: nn.Identity(7, k=1), [(_r(2, 3), True)]),
    ("Flatten", lambda nn, T: nn.Flatten(), [(_r(2, 3, 4), True)]),
    ("Unflatten", lambda nn, T: nn.Unflatten(1, (2, 3)), [(_r(4, 6), True)]),
    ("Conv1d", lambda nn, T: nn.Conv1d(2, 4, 3, stride=2, padding=1), [(_r(2, 2, 9), True)]),
    ("Conv2d", lambda nn, T: nn.Conv2d(2, 4, 3, padding=1), [(_r(2, 2, 5, 6), True)]),
    ("Conv2d-groups-dilation", lambda nn, T: nn.Conv2d(2, 4, (3, 2), stride=(2, 1),
                                                       dilation=(1, 2), groups=2, bias=False),
     [(_r(2, 2, 7, 6), True)]),
    ("Conv2d-same-reflect", lambda nn, T: nn.Conv2d(2, 3, 3, padding="same",
                                                    padding_mode="reflect"),
     [(_r(1, 2, 5, 5), True)]),
    ("Conv2d-circular", lambda nn, T: nn.Conv2d(1, 2, 3, padding=1, padding_mode="circular"),
     [(_r(1, 1, 4, 5), True)]),
    ("ConvTranspose2d", lambda nn, T: nn.ConvTranspose2d(3, 2, 3, stride=2, padding=1,
                                                         output_padding=1),
     [(_r(2, 3, 4, 4), True)]),
    ("ConvTranspose1d", lambda nn, T: nn.ConvTranspose1d(2, 3, 4, stride=2),
     [(_r(2, 2, 5), True)]),
    ("MaxPool2d", lambda nn, T: nn.MaxPool2d(2), [(_r(2, 3, 6, 6), True)]),
    ("MaxPool2d-pad", lambda nn, T: nn.MaxPool2d(3, 2, 1), [(_r(2, 2, 7, 6), True)]),
    ("MaxPool1d", lambda nn, T: nn.MaxPool1d(2), [(_r(2, 3, 8), True)]),
    ("AvgPool2d", lambda nn, T: nn.AvgPool2d(2), [(_r(2, 3, 6, 6), True)]),
    ("AvgPool2d-pad", lambda nn, T: nn.AvgPool2d(3, 2, 1, count_include_pad=False),
     [(_r(2, 2, 7, 6), True)]),
    ("AvgPool1d", lambda nn, T: nn.AvgPool1d(3, 2), [(_r(2, 3, 9), True)]),
    ("AdaptiveAvgPool2d", lambda nn, T: nn.AdaptiveAvgPool2d((2, 3)), [(_r(2, 3, 5, 7), True)]),
    ("AdaptiveAvgPool2d-1", lambda nn, T: nn.AdaptiveAvgPool2d(1), [(_r(2, 3, 5, 4), True)]),
    ("AdaptiveAvgPool1d", lambda nn, T: nn.AdaptiveAvgPool1d(3), [(_r(2, 3, 7), True)]),
    ("AdaptiveMaxPool2d", lambda nn, T: nn.AdaptiveMaxPool2d(2), [(_r(2, 2, 5, 4), True)]),
    ("LPPool2d", lambda nn, T: nn.LPPool2d(2, 2), [(_r(1, 2, 4, 4), True)]),
    ("BatchNorm1d", lambda nn, T: nn.BatchNorm1d(3), [(_r(6, 3), True)]),
    ("BatchNorm1d-3d", lambda nn, T: nn.BatchNorm1d(3, momentum=None, affine=False),
     [(_r(4, 3, 5), True)]),
    ("BatchNorm2d", lambda nn, T: nn.BatchNorm2d(3), [(_r(4, 3, 2, 5), True)]),
    ("BatchNorm2d-eval", lambda nn, T: nn.BatchNorm2d(3), [(_r(4, 3, 2, 5), True)], None,
     "eval"),
    ("BatchNorm2d-no-stats", lambda nn, T: nn.BatchNorm2d(3, track_running_stats=False),
     [(_r(4, 3, 2, 2), True)], None, "eval"),
    ("LayerNorm", lambda nn, T: nn.LayerNorm(4), [(_r(2, 3, 4), True)]),
    ("LayerNorm-2d-nobias", lambda nn, T: nn.LayerNorm([3, 4], bias=False),
     [(_r(2, 3, 4), True)]),
    ("GroupNorm", lambda nn, T: nn.GroupNorm(2, 4), [(_r(3, 4, 5), True)]),
    ("InstanceNorm2d", lambda nn, T: nn.InstanceNorm2d(3, affine=True),
     [(_r(2, 3, 4, 4), True)]),
    ("RMSNorm", lambda nn, T: nn.RMSNorm(4), [(_r(2, 3, 4), True)]),
    ("LocalResponseNorm", lambda nn, T: nn.LocalResponseNorm(2), [(_r(2, 4, 3, 3), True)]),
    ("Embedding", lambda nn, T: nn.Embedding(10, 3), [(_ints(10, 2, 5), False)]),
    ("Embedding-pad", lambda nn, T: nn.Embedding(10, 3, padding_idx=0),
     [(np.array([[0, 2, 0], [5, 0, 9]]), False)]),
    ("EmbeddingBag-2d-mean", lambda nn, T: nn.EmbeddingBag(10, 3),
     [(_ints(10, 4, 5), False)]),
    ("EmbeddingBag-offsets-sum-pad", lambda nn, T: nn.EmbeddingBag(10, 3, mode="sum",
                                                                   padding_idx=2),
     [(np.array([1, 2, 4, 5, 4, 3, 2, 9]), False), (np.array([0, 2, 2, 5]), False)]),
    ("EmbeddingBag-max-last-offset", lambda nn, T: nn.EmbeddingBag(
        10, 3, mode="max", include_last_offset=True),
     [(np.array([1, 2, 4, 5, 4, 3, 2, 9]), False), (np.array([0, 3, 3, 8]), False)]),
    ("EmbeddingBag-mean-pad", lambda nn, T: nn.EmbeddingBag(10, 3, padding_idx=0),
     [(np.array([[0, 0, 0], [1, 0, 3], [4, 5, 6]]), False)]),
    ("EmbeddingBag-weights", lambda nn, T: nn.EmbeddingBag(10, 3, mode="sum"),
     [(np.array([1, 2, 4, 5, 4]), False), (np.array([0, 2]), False), (_r(5), True)]),
    ("AdaptiveMaxPool1d", lambda nn, T: nn.AdaptiveMaxPool1d(3), [(_r(2, 3, 7), True)]),
    ("LPPool1d", lambda nn, T: nn.LPPool1d(3, 2), [(_r(2, 3, 8), True)]),
    ("MaxPool1d-ceil-dilation", lambda nn, T: nn.MaxPool1d(2, 2, 1, dilation=2, ceil_mode=True),
     [(_r(2, 3, 9), True)]),
    ("AvgPool2d-ceil-divisor", lambda nn, T: nn.AvgPool2d(3, 2, ceil_mode=True,
                                                          divisor_override=4),
     [(_r(1, 2, 6, 7), True)]),
    ("InstanceNorm1d-stats", lambda nn, T: nn.InstanceNorm1d(3, track_running_stats=True),
     [(_r(2, 3, 6), True)]),
    ("InstanceNorm1d-unbatched", lambda nn, T: nn.InstanceNorm1d(3, affine=True),
     [(_r(3, 6), True)]),
    ("BatchNorm3d", lambda nn, T: nn.BatchNorm3d(2), [(_r(3, 2, 2, 3, 2), True)]),
    ("Conv3d", lambda nn, T: nn.Conv3d(2, 3, 2), [(_r(1, 2, 3, 4, 3), True)]),
    ("ConvTranspose3d", lambda nn, T: nn.ConvTranspose3d(2, 3, 2), [(_r(1, 2, 2, 3, 2), True)]),
    ("MaxPool3d", lambda nn, T: nn.MaxPool3d(2), [(_r(1, 2, 4, 4, 4), True)]),
    ("AvgPool3d", lambda nn, T: nn.AvgPool3d(2), [(_r(1, 2, 4, 4, 4), True)]),
    ("AdaptiveAvgPool3d", lambda nn, T: nn.AdaptiveAvgPool3d(2), [(_r(1, 2, 4, 5, 3), True)]),
    ("Embedding-from-pretrained", lambda nn, T: nn.Embedding.from_pretrained(
        T.tensor(np.arange(12.0).reshape(4, 3)), freeze=False, max_norm=5.0),
     [(np.array([[0, 3], [2, 2]]), False)]),
    ("Dropout1d-eval", lambda nn, T: nn.Dropout1d(0.4), [(_r(2, 3, 4), True)], None, "eval"),
    ("Dropout3d-eval", lambda nn, T: nn.Dropout3d(0.4), [(_r(2, 3, 2, 2, 2), True)], None,
     "eval"),
    ("AlphaDropout-eval", lambda nn, T: nn.AlphaDropout(0.4), [(_r(3, 4), True)], None,
     "eval"),
    ("UpsamplingNearest2d", lambda nn, T: nn.UpsamplingNearest2d(size=(5, 6)),
     [(_r(1, 2, 2, 3), True)]),
    ("Dropout-eval", lambda nn, T: nn.Dropout(0.4), [(_r(3, 4), True)], None, "eval"),
    ("Dropout2d-eval", lambda nn, T: nn.Dropout2d(0.4), [(_r(2, 3, 4, 4), True)], None, "eval"),
    ("RReLU-eval", lambda nn, T: nn.RReLU(), [(_r(3, 4), True)], None, "eval"),
    # activations
    *[(name, (lambda name, args: lambda nn, T: getattr(nn, name)(*args))(name, args),
       [(_r(3, 6), True)]) for name, args in [
        ("ReLU", ()), ("ReLU6", ()), ("LeakyReLU", (0.2,)), ("ELU", ()), ("SELU", ()),
        ("CELU", (0.5,)), ("GELU", ()), ("GELU", ("tanh",)), ("SiLU", ()), ("Mish", ()),
        ("Sigmoid", ()), ("Tanh", ()), ("Softplus", (2.0, 1.0)), ("Softsign", ()),
        ("Softshrink", (0.3,)), ("Hardshrink", (0.3,)), ("Tanhshrink", ()),
        ("Hardtanh", (-0.5, 0.5)), ("Hardsigmoid", ()), ("Hardswish", ()), ("LogSigmoid", ()),
        ("Threshold", (0.1, 20.0)), ("GLU", ()), ("Softmax", (1,)), ("LogSoftmax", (1,)),
        ("Softmin", (0,)), ("PReLU", ()), ("PReLU", (6, 0.1))]],
    ("Softmax2d", lambda nn, T: nn.Softmax2d(), [(_r(2, 3, 2, 2), True)]),
    ("PReLU-channels", lambda nn, T: nn.PReLU(3), [(_r(2, 3, 4), True)]),
    # losses
    ("L1Loss", lambda nn, T: nn.L1Loss(), [(_r(3, 4), True), (_r(3, 4), True)]),
    ("MSELoss", lambda nn, T: nn.MSELoss(), [(_r(3, 4), True), (_r(3, 4), True)]),
    ("MSELoss-sum", lambda nn, T: nn.MSELoss(reduction="sum"),
     [(_r(3, 4), True), (_r(3, 4), False)]),
    ("MSELoss-legacy", lambda nn, T: nn.MSELoss(size_average=False),
     [(_r(3, 4), True), (_r(3, 4), False)]),
    ("CrossEntropyLoss", lambda nn, T: nn.CrossEntropyLoss(), [(_r(5, 3), True),
                                                                (_ints(3, 5), False)]),
    ("CrossEntropyLoss-opts", lambda nn, T: nn.CrossEntropyLoss(
        weight=T.tensor([1.0, 2.0, 0.5], dtype=T.float64), label_smoothing=0.1,
        ignore_index=1), [(_r(6, 3), True), (np.array([0, 1, 2, 2, 1, 0]), False)]),
    ("CrossEntropyLoss-2d", lambda nn, T: nn.CrossEntropyLoss(reduction="none"),
     [(_r(2, 3, 4), True), (_ints(3, 2, 4), False)]),
    ("NLLLoss", lambda nn, T: nn.NLLLoss(), [(_r(5, 3), True), (_ints(3, 5), False)]),
    ("BCELoss", lambda nn, T: nn.BCELoss(), [(_pos(3, 4), True), (_pos(3, 4), False)]),
    ("BCEWithLogitsLoss", lambda nn, T: nn.BCEWithLogitsLoss(
        pos_weight=T.tensor([1.0, 2.0, 3.0, 0.5], dtype=T.float64)),
     [(_r(3, 4), True), (_pos(3, 4), False)]),
    ("HuberLoss", lambda nn, T: nn.HuberLoss(delta=0.5), [(_r(3, 4), True), (_r(3, 4), False)]),
    ("SmoothL1Loss", lambda nn, T: nn.SmoothL1Loss(beta=0.5),
     [(_r(3, 4), True), (_r(3, 4), False)]),
    ("KLDivLoss", lambda nn, T: nn.KLDivLoss(reduction="batchmean"),
     [(np.log(_pos(3, 4)), True), (_pos(3, 4), False)]),
    ("SoftMarginLoss", lambda nn, T: nn.SoftMarginLoss(), [(_r(3, 4), True),
                                                            (_signs(3, 4), False)]),
    ("MarginRankingLoss", lambda nn, T: nn.MarginRankingLoss(0.2),
     [(_r(5), True), (_r(5), True), (_signs(5), False)]),
    ("HingeEmbeddingLoss", lambda nn, T: nn.HingeEmbeddingLoss(),
     [(_r(3, 4), True), (_signs(3, 4), False)]),
    ("CosineEmbeddingLoss", lambda nn, T: nn.CosineEmbeddingLoss(0.1),
     [(_r(4, 3), True), (_r(4, 3), True), (_signs(4), False)]),
    ("MultiLabelSoftMarginLoss", lambda nn, T: nn.MultiLabelSoftMarginLoss(),
     [(_r(3, 4), True), (_ints(2, 3, 4).astype(float), False)]),
    ("MultiMarginLoss", lambda nn, T: nn.MultiMarginLoss(),
     [(_r(4, 3), True), (_ints(3, 4), False)]),
    ("TripletMarginLoss", lambda nn, T: nn.TripletMarginLoss(),
     [(_r(4, 3), True), (_r(4, 3), True), (_r(4, 3), True)]),
    ("PoissonNLLLoss", lambda nn, T: nn.PoissonNLLLoss(),
     [(_r(3, 4), True), (_pos(3, 4) * 3, False)]),
    ("GaussianNLLLoss", lambda nn, T: nn.GaussianNLLLoss(),
     [(_r(3, 4), True), (_r(3, 4), False), (_pos(3, 4), True)]),
    ("TripletMarginWithDistanceLoss", lambda nn, T: nn.TripletMarginWithDistanceLoss(
        margin=0.5, swap=True), [(_r(4, 3), True), (_r(4, 3), True), (_r(4, 3), True)]),
    ("MultiLabelMarginLoss", lambda nn, T: nn.MultiLabelMarginLoss(),
     [(_r(3, 4), True), (np.array([[3, 0, -1, 1], [1, 2, 3, -1], [0, -1, 2, 2]]), False)]),
    ("MultiLabelMarginLoss-sum-dup", lambda nn, T: nn.MultiLabelMarginLoss(reduction="sum"),
     [(_r(3, 4), True), (np.array([[3, 3, -1, 1], [0, 1, 2, 3], [2, -1, 0, 0]]), False)]),
    ("MultiLabelMarginLoss-1d", lambda nn, T: nn.MultiLabelMarginLoss(),
     [(_r(5), True), (np.array([4, 1, -1, 0, 0]), False)]),
    ("TripletMarginWithDistanceLoss-custom", lambda nn, T: nn.TripletMarginWithDistanceLoss(
        distance_function=lambda a, b: ((a - b) ** 2).sum(-1), reduction="none"),
     [(_r(4, 3), True), (_r(4, 3), True), (_r(4, 3), True)]),
    # PyTorch's CTC backward assumes log_softmax inputs: compare gradients w.r.t. logits
    ("CTCLoss", lambda nn, T: _ctc_on_logits(nn),
     [(_r(6, 2, 5), True), (np.array([[1, 2, 2], [3, 1, 0]]), False),
      (np.array([6, 5]), False), (np.array([3, 2]), False)]),
    ("CTCLoss-concat-targets-sum", lambda nn, T: _ctc_on_logits(nn, blank=4, reduction="sum"),
     [(_r(7, 3, 5), True), (np.array([1, 1, 0, 2, 3, 3, 0]), False),
      (np.array([7, 6, 4]), False), (np.array([3, 1, 3]), False)]),
    ("CTCLoss-impossible-zero-inf", lambda nn, T: _ctc_on_logits(nn, zero_infinity=True,
                                                                 reduction="none"),
     [(_r(3, 2, 4), True), (np.array([[1, 1, 1], [2, 3, 0]]), False),
      (np.array([3, 3]), False), (np.array([3, 2]), False)]),
    # recurrent
    ("RNN", lambda nn, T: nn.RNN(3, 4), [(_r(5, 2, 3), True)]),
    ("RNN-relu-2layer-bf", lambda nn, T: nn.RNN(3, 4, 2, nonlinearity="relu",
                                                batch_first=True), [(_r(2, 5, 3), True)]),
    ("RNN-h0", lambda nn, T: nn.RNN(3, 4, bidirectional=True),
     [(_r(5, 2, 3), True), (_r(2, 2, 4), True)]),
    ("LSTM", lambda nn, T: nn.LSTM(3, 4), [(_r(5, 2, 3), True)]),
    ("LSTM-2layer-bidir-bf", lambda nn, T: nn.LSTM(3, 4, 2, bidirectional=True,
                                                   batch_first=True), [(_r(2, 5, 3), True)]),
    ("LSTM-proj", lambda nn, T: nn.LSTM(3, 5, proj_size=2), [(_r(4, 2, 3), True)]),
    ("LSTM-unbatched", lambda nn, T: nn.LSTM(3, 4, bias=False), [(_r(5, 3), True)]),
    ("LSTM-dropout-1", lambda nn, T: nn.LSTM(3, 4, 2, dropout=1.0), [(_r(4, 2, 3), True)]),
    ("GRU", lambda nn, T: nn.GRU(3, 4), [(_r(5, 2, 3), True)]),
    ("GRU-2layer-bidir", lambda nn, T: nn.GRU(3, 4, 2, bidirectional=True),
     [(_r(4, 2, 3), True), (_r(4, 2, 4), True)]),
    ("RNNCell", lambda nn, T: nn.RNNCell(3, 4), [(_r(2, 3), True), (_r(2, 4), True)]),
    ("RNNCell-relu", lambda nn, T: nn.RNNCell(3, 4, nonlinearity="relu"), [(_r(2, 3), True)]),
    ("LSTMCell", lambda nn, T: nn.LSTMCell(3, 4), [(_r(2, 3), True)]),
    ("GRUCell", lambda nn, T: nn.GRUCell(3, 4), [(_r(2, 3), True), (_r(2, 4), True)]),
    ("GRUCell-unbatched", lambda nn, T: nn.GRUCell(3, 4, bias=False), [(_r(3), True)]),
    # attention
    ("MultiheadAttention", lambda nn, T: nn.MultiheadAttention(8, 2),
     [(_r(5, 2, 8), True), (_r(6, 2, 8), True), (_r(6, 2, 8), True)]),
    ("MultiheadAttention-self-masks", lambda nn, T: nn.MultiheadAttention(8, 4,
                                                                          batch_first=True),
     [(_r(2, 5, 8), True)] * 1 + [(None, "same0"), (None, "same0")],
     lambda T: {"attn_mask": T.tensor(np.triu(np.ones((5, 5), bool), 1)),
                    "key_padding_mask": T.tensor(np.array([[False] * 4 + [True],
                                                        [False] * 5])),
                    "average_attn_weights": False}),
    ("MultiheadAttention-kdim-float-mask", lambda nn, T: nn.MultiheadAttention(
        6, 3, kdim=4, vdim=5, bias=False),
     [(_r(3, 2, 6), True), (_r(4, 2, 4), True), (_r(4, 2, 5), True)],
     (lambda m: lambda T: {"attn_mask": T.tensor(m)})(RNG.standard_normal((3, 4)))),
    ("MultiheadAttention-bias-kv", lambda nn, T: nn.MultiheadAttention(
        4, 2, add_bias_kv=True, add_zero_attn=True),
     [(_r(3, 2, 4), True), (_r(5, 2, 4), True), (_r(5, 2, 4), True)]),
    ("TransformerEncoderLayer", lambda nn, T: nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0),
     [(_r(5, 2, 8), True)]),
    ("TransformerEncoderLayer-normfirst-gelu", lambda nn, T: nn.TransformerEncoderLayer(
        8, 2, 16, dropout=0.0, activation="gelu", norm_first=True, batch_first=True),
     [(_r(2, 5, 8), True)], lambda T: {"is_causal": True,
                                           "src_mask": T.tensor(np.triu(np.full((5, 5), -np.inf),
                                                                     1))}),
    ("TransformerEncoder", lambda nn, T: nn.TransformerEncoder(
        nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0), 2, norm=nn.LayerNorm(8)),
     [(_r(4, 3, 8), True)], None, "eval"),
    ("TransformerDecoderLayer", lambda nn, T: nn.TransformerDecoderLayer(8, 2, 16, dropout=0.0),
     [(_r(4, 2, 8), True), (_r(5, 2, 8), True)],
     lambda T: {"tgt_mask": T.tensor(np.triu(np.ones((4, 4), bool), 1))}),
    ("TransformerDecoderLayer-normfirst", lambda nn, T: nn.TransformerDecoderLayer(
        8, 4, 16, dropout=0.0, norm_first=True, batch_first=True),
     [(_r(2, 4, 8), True), (_r(2, 3, 8), True)]),
    ("Transformer", lambda nn, T: nn.Transformer(8, 2, 2, 1, 16, dropout=0.0),
     [(_r(5, 2, 8), True), (_r(4, 2, 8), True)], None, "eval"),
    # padding, resampling, rearranging, distances
    ("ZeroPad2d", lambda nn, T: nn.ZeroPad2d((1, 0, 2, 1)), [(_r(2, 3, 4, 4), True)]),
    ("ConstantPad1d", lambda nn, T: nn.ConstantPad1d(2, 3.5), [(_r(2, 3, 4), True)]),
    ("ReflectionPad2d", lambda nn, T: nn.ReflectionPad2d(1), [(_r(1, 2, 4, 5), True)]),
    ("ReplicationPad1d", lambda nn, T: nn.ReplicationPad1d((2, 1)), [(_r(2, 3, 4), True)]),
    ("CircularPad2d", lambda nn, T: nn.CircularPad2d(1), [(_r(1, 2, 3, 4), True)]),
    ("Upsample-nearest", lambda nn, T: nn.Upsample(scale_factor=2), [(_r(1, 2, 3, 4), True)]),
    ("Upsample-bilinear", lambda nn, T: nn.Upsample(size=(5, 7), mode="bilinear",
                                                    align_corners=False),
     [(_r(1, 2, 3, 4), True)]),
    ("UpsamplingBilinear2d", lambda nn, T: nn.UpsamplingBilinear2d(scale_factor=2),
     [(_r(1, 2, 3, 3), True)]),
    ("PixelShuffle", lambda nn, T: nn.PixelShuffle(2), [(_r(2, 8, 3, 3), True)]),
    ("PixelUnshuffle", lambda nn, T: nn.PixelUnshuffle(2), [(_r(2, 2, 4, 6), True)]),
    ("ChannelShuffle", lambda nn, T: nn.ChannelShuffle(2), [(_r(2, 6, 3, 3), True)]),
    ("Unfold", lambda nn, T: nn.Unfold(2, stride=1, padding=1), [(_r(2, 3, 4, 4), True)]),
    ("Fold", lambda nn, T: nn.Fold((4, 5), (2, 2)), [(_r(2, 12, 12), True)]),
    ("CosineSimilarity", lambda nn, T: nn.CosineSimilarity(dim=0),
     [(_r(4, 3), True), (_r(4, 3), True)]),
    ("PairwiseDistance", lambda nn, T: nn.PairwiseDistance(p=1.0, keepdim=True),
     [(_r(4, 3), True), (_r(4, 3), True)]),
    ("Sequential-mlp", lambda nn, T: nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 2),
                                                   nn.LogSoftmax(-1)), [(_r(3, 4), True)]),
    ("Sequential-cnn", lambda nn, T: nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Dropout(0.0), nn.Linear(4 * 4 * 4, 3)), [(_r(2, 1, 8, 8), True)]),
]


def _unpack(case):
    name, make, inputs = case[:3]
    kw = case[3] if len(case) > 3 else None
    mode = case[4] if len(case) > 4 else "train"
    return name, make, inputs, kw, mode


def _flat(out):
    if isinstance(out, (tuple, list)):
        return [t for o in out for t in _flat(o)]
    return [] if out is None else [out]


def _skip_if_missing(e):
    msg = str(e)
    if msg.startswith("module 'chainrule") or "'Tensor' object has no attribute" in msg:
        pytest.skip(f"not implemented yet: {msg}")
    raise e


def _build_pair(make, mode="train"):
    import torch

    torch.manual_seed(0)
    tm = make(torch.nn, torch).double()
    cm = make(cnn, cr).double()
    tsd, csd = tm.state_dict(), cm.state_dict()
    assert list(csd) == list(tsd)
    for k in tsd:
        assert tuple(csd[k].shape) == tuple(tsd[k].shape), k
    cm.load_state_dict({k: cr.tensor(v.detach().numpy().copy()) for k, v in tsd.items()})
    if mode == "eval":
        tm.eval()
        cm.eval()
    return tm, cm


@pytest.mark.torch
@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_module_matches_torch(case):
    import torch

    name, make, inputs, kw, mode = _unpack(case)
    tm, cm = _build_pair(make, mode)
    arrays = [(a if a is not None else inputs[0][0], g) for a, g in inputs]
    float_in = [a.dtype.kind == "f" for a, _ in arrays]
    t_in = [torch.tensor(a, requires_grad=bool(g and f)) for (a, g), f in zip(arrays, float_in)]
    c_in = [cr.tensor(a, requires_grad=bool(g and f)) for (a, g), f in zip(arrays, float_in)]
    for i, (a, g) in enumerate(inputs):  # "same0": pass the very same tensor (self-attention)
        if g == "same0":
            t_in[i], c_in[i] = t_in[0], c_in[0]
    t_kw = kw(torch) if kw else {}
    c_kw = kw(cr) if kw else {}
    t_out = _flat(tm(*t_in, **t_kw))
    try:
        c_out = _flat(cm(*c_in, **c_kw))
    except AttributeError as e:
        _skip_if_missing(e)
    assert len(c_out) == len(t_out)
    for c, t in zip(c_out, t_out):
        assert tuple(c.shape) == tuple(t.shape)
        np.testing.assert_allclose(c.detach().numpy(), t.detach().numpy(), rtol=1e-7,
                                   atol=1e-9, err_msg=f"{name} forward")
    # backward with the same upstream gradient through every differentiable output
    ups = [RNG.standard_normal(tuple(t.shape)) for t in t_out]
    t_loss = sum((t * torch.tensor(u)).sum() for t, u in zip(t_out, ups) if t.requires_grad)
    c_loss = sum((c * cr.tensor(u)).sum() for c, u in zip(c_out, ups) if c.requires_grad)
    if not isinstance(t_loss, torch.Tensor):
        return
    t_loss.backward()
    c_loss.backward()
    for i, (c, t) in enumerate(zip(c_in, t_in)):
        if t.requires_grad and t.grad is not None:
            np.testing.assert_allclose(c.grad.numpy(), t.grad.numpy(), rtol=1e-7, atol=1e-9,
                                       err_msg=f"{name} grad of input {i}")
    c_params = dict(cm.named_parameters())
    for k, tp in tm.named_parameters():
        if tp.grad is None:
            assert c_params[k].grad is None or not c_params[k].grad.numpy().any(), k
            continue
        np.testing.assert_allclose(c_params[k].grad.numpy(), tp.grad.numpy(), rtol=1e-7,
                                   atol=1e-9, err_msg=f"{name} grad of {k}")
    # buffers (running statistics) evolve identically
    c_bufs = dict(cm.named_buffers())
    for k, tb in tm.named_buffers():
        np.testing.assert_allclose(c_bufs[k].numpy(), tb.numpy(), rtol=1e-7, atol=1e-9,
                                   err_msg=f"{name} buffer {k}")


@pytest.mark.torch
def test_batchnorm_running_stats_over_steps_then_eval():
    import torch

    for make in (lambda nn, T: nn.BatchNorm2d(3, momentum=0.3),
                 lambda nn, T: nn.BatchNorm1d(3, momentum=None)):
        tm, cm = _build_pair(make)
        shape = (4, 3, 2, 2) if isinstance(tm, torch.nn.BatchNorm2d) else (5, 3)
        for _ in range(4):
            x = RNG.standard_normal(shape) * 3 + 1
            try:
                cm(cr.tensor(x))
            except AttributeError as e:
                _skip_if_missing(e)
            tm(torch.tensor(x))
        for k, tb in tm.state_dict().items():
            np.testing.assert_allclose(cm.state_dict()[k].numpy(), tb.numpy(), rtol=1e-10)
        tm.eval()
        cm.eval()
        x = RNG.standard_normal(shape)
        np.testing.assert_allclose(cm(cr.tensor(x)).detach().numpy(),
                                   tm(torch.tensor(x)).detach().numpy(), rtol=1e-10)


def test_dropout_train_and_eval():
    cr.manual_seed(0)
    d = cnn.Dropout(0.25)
    x = cr.ones(200, 50)
    try:
        y = d(x).numpy()
    except AttributeError as e:
        _skip_if_missing(e)
    zeros = (y == 0).mean()
    assert 0.2 < zeros < 0.3
    np.testing.assert_allclose(y[y != 0], 1 / 0.75)
    d.eval()
    assert d(x) is x or np.array_equal(d(x).numpy(), x.numpy())


# -- state_dict layout ------------------------------------------------------------------------
ARCHS = [
    lambda nn: nn.Sequential(nn.Conv2d(1, 8, 3), nn.BatchNorm2d(8), nn.ReLU(), nn.Flatten(),
                             nn.Linear(8, 10)),
    lambda nn: nn.LSTM(3, 4, 3, bidirectional=True, proj_size=2),
    lambda nn: nn.GRU(3, 4, 2, bias=False),
    lambda nn: nn.ModuleDict({"emb": nn.Embedding(5, 2), "rnn": nn.RNNCell(2, 3),
                              "heads": nn.ModuleList([nn.Linear(3, 1), nn.Bilinear(3, 3, 2)])}),
    lambda nn: nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, 16), 2),
    lambda nn: nn.MultiheadAttention(6, 2, kdim=3, vdim=4, add_bias_kv=True),
    lambda nn: nn.Sequential(nn.GroupNorm(2, 4), nn.LayerNorm([4, 3]), nn.InstanceNorm1d(
        4, affine=True, track_running_stats=True), nn.PReLU(4), nn.ConvTranspose2d(4, 2, 3)),
    lambda nn: nn.CrossEntropyLoss(weight=None),
]


@pytest.mark.torch
@pytest.mark.parametrize("arch", range(len(ARCHS)))
def test_state_dict_keys_and_shapes_match_torch(arch):
    import torch

    t = ARCHS[arch](torch.nn)
    c = ARCHS[arch](cnn)
    tsd, csd = t.state_dict(), c.state_dict()
    assert list(csd) == list(tsd)
    for k in tsd:
        assert tuple(csd[k].shape) == tuple(tsd[k].shape)
        assert csd[k].dtype.itemsize == tsd[k].dtype.itemsize
    assert [n for n, _ in c.named_parameters()] == [n for n, _ in t.named_parameters()]
    assert [n for n, _ in c.named_modules()] == [n for n, _ in t.named_modules()]
    assert [n for n, _ in c.named_buffers()] == [n for n, _ in t.named_buffers()]
    # the printed module tree is PyTorch's (modulo the package name)
    assert repr(c) == repr(t)


@pytest.mark.torch
def test_load_state_dict_errors_match_torch():
    import torch

    t, c = torch.nn.Linear(3, 2), cnn.Linear(3, 2)
    bad = [{"weight": torch.zeros(2, 3), "foo": torch.zeros(1)},
           {"weight": torch.zeros(2, 4), "bias": torch.zeros(2)},
           {"weight": torch.zeros(2, 3)}]
    for sd in bad:
        with pytest.raises(RuntimeError) as te:
            t.load_state_dict(sd)
        csd = {k: cr.tensor(v.numpy()) for k, v in sd.items()}
        with pytest.raises(RuntimeError) as ce:
            c.load_state_dict(csd)
        assert str(ce.value) == str(te.value)
    res_t = t.load_state_dict(bad[0], strict=False)
    res_c = c.load_state_dict({k: cr.tensor(v.numpy()) for k, v in bad[0].items()},
                              strict=False)
    assert res_c.missing_keys == res_t.missing_keys
    assert res_c.unexpected_keys == res_t.unexpected_keys
    assert repr(res_c) == repr(res_t)
    good = c.load_state_dict(cnn.Linear(3, 2).state_dict())
    assert repr(good) == "<All keys matched successfully>"
    nested_t = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.Sequential(
        torch.nn.BatchNorm1d(2)))
    nested_c = cnn.Sequential(cnn.Linear(2, 2), cnn.Sequential(cnn.BatchNorm1d(2)))
    sd = {k: v for k, v in nested_t.state_dict().items() if "running" not in k}
    sd["1.0.extra"] = torch.zeros(1)
    with pytest.raises(RuntimeError) as te:
        nested_t.load_state_dict(sd)
    with pytest.raises(RuntimeError) as ce:
        nested_c.load_state_dict({k: cr.tensor(v.numpy()) for k, v in sd.items()})
    assert str(ce.value) == str(te.value)


def test_batchnorm_loads_checkpoints_without_num_batches_tracked():
    bn = cnn.BatchNorm1d(3)
    bn.num_batches_tracked._data[...] = 7
    old = {k: v for k, v in cnn.BatchNorm1d(3).state_dict().items()
           if k != "num_batches_tracked"}
    res = bn.load_state_dict(old)
    assert not res.missing_keys and bn.num_batches_tracked.item() == 7


def test_load_state_dict_copies_values_in_place():
    a, b = cnn.Linear(3, 2), cnn.Linear(3, 2)
    w = a.weight
    a.load_state_dict(b.state_dict())
    assert a.weight is w
    np.testing.assert_array_equal(a.weight.numpy(force=True), b.weight.numpy(force=True))
    b.weight.data = b.weight.data * 0
    assert a.weight.numpy(force=True).any()  # a copy, not an alias


# -- Module mechanics ------------------------------------------------------------------------
class Net(cnn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = cnn.Linear(3, 4)
        self.block = cnn.Sequential(cnn.ReLU(), cnn.Linear(4, 2))
        self.scale = cnn.Parameter(cr.ones(1))
        self.register_buffer("steps", cr.zeros(1))
        self.register_buffer("scratch", cr.zeros(2), persistent=False)
        self.not_a_param = cr.ones(2)

    def forward(self, x):
        return self.block(self.fc1(x)) * self.scale


def test_registration_and_traversal():
    net = Net()
    assert [n for n, _ in net.named_parameters()] == [
        "scale", "fc1.weight", "fc1.bias", "block.1.weight", "block.1.bias"]
    assert [n for n, _ in net.named_parameters(recurse=False)] == ["scale"]
    assert [n for n, _ in net.named_parameters(prefix="m")][0] == "m.scale"
    assert [n for n, _ in net.named_buffers()] == ["steps", "scratch"]
    assert list(net.state_dict()) == ["scale", "steps", "fc1.weight", "fc1.bias",
                                      "block.1.weight", "block.1.bias"]
    assert [n for n, _ in net.named_children()] == ["fc1", "block"]
    assert [n for n, _ in net.named_modules()] == ["", "fc1", "block", "block.0", "block.1"]
    assert len(list(net.modules())) == 5 and len(list(net.children())) == 2
    assert "not_a_param" not in dict(net.named_parameters())
    assert net.get_submodule("block.1") is net.block[1]
    assert net.get_parameter("block.1.bias") is net.block[1].bias
    # shared modules and parameters are listed once
    shared = cnn.Sequential(net.fc1, net.fc1)
    assert len(list(shared.parameters())) == 2
    # reassigning and deleting
    net.fc1 = cnn.Identity()
    assert "fc1.weight" not in net.state_dict()
    del net.scale
    assert "scale" not in dict(net.named_parameters())
    with pytest.raises(AttributeError, match="'Net' object has no attribute 'nothing'"):
        net.nothing


@pytest.mark.torch
def test_assignment_errors_match_torch():
    import torch

    for lib, T in ((torch.nn, torch), (cnn, cr)):
        m = lib.Linear(2, 2)
        with pytest.raises(TypeError, match="cannot assign '.*' as parameter 'weight' "
                                            r"\(torch.nn.Parameter or None expected\)"):
            m.weight = T.zeros(2, 2)
        with pytest.raises(KeyError, match="attribute 'weight' already exists"):
            m.register_buffer("weight", T.zeros(1))
        with pytest.raises(ValueError, match="training mode is expected to be boolean"):
            m.train("yes")
        with pytest.raises(KeyError, match="contain"):
            m.register_parameter("a.b", None)


@pytest.mark.torch
def test_buffer_assignment_matches_torch():
    import torch

    for lib, T in ((torch.nn, torch), (cnn, cr)):
        m = lib.Module()
        m.a = lib.Buffer(T.zeros(2))
        m.b = lib.Buffer(T.ones(1), persistent=False)
        assert list(m.state_dict()) == ["a"]
        assert [n for n, _ in m.named_buffers()] == ["a", "b"]
        assert type(m.a).__name__ == "Tensor"


def test_train_eval_zero_grad_requires_grad_apply_to():
    net = Net()
    net.eval()
    assert not net.training and not net.block[0].training
    net.train()
    assert all(m.training for m in net.modules())
    for p in net.parameters():
        p.grad = cr.ones_like(p)
    net.zero_grad(set_to_none=False)
    assert all(p.grad is not None and not p.grad.numpy().any() for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())
    net.requires_grad_(False)
    assert not any(p.requires_grad for p in net.parameters())
    seen = []
    net.apply(lambda m: seen.append(type(m).__name__))
    assert seen == ["Linear", "ReLU", "Linear", "Sequential", "Net"]
    net.double()
    assert all(p.dtype == cr.float64 for p in net.parameters())
    assert net.steps.dtype == cr.float64
    net.to(cr.float32)
    assert all(p.dtype == cr.float32 for p in net.parameters())
    net.float()
    assert isinstance(net.fc1.weight, cnn.Parameter)


def test_forward_hooks_and_backward_hook():
    lin = cnn.Linear(2, 2)
    calls = []
    h1 = lin.register_forward_pre_hook(lambda m, args: (args[0] * 2,))
    h2 = lin.register_forward_hook(lambda m, args, out: calls.append(out.shape) or out * 0)
    x = cr.ones(1, 2)
    out = lin(x)
    assert calls == [cr.Size([1, 2])] and not out.detach().numpy().any()
    h1.remove()
    h2.remove()
    out = lin(x)
    np.testing.assert_allclose(out.detach().numpy(), (x @ lin.weight.T + lin.bias).detach()
                               .numpy())
    grads = []
    lin.register_full_backward_hook(lambda m, gin, gout: grads.append(gout[0].shape))
    lin(x).sum().backward()
    assert grads == [cr.Size([1, 2])]


def test_deepcopy_and_parameter_repr():
    net = Net()
    clone = copy.deepcopy(net)
    assert clone.fc1.weight is not net.fc1.weight
    assert isinstance(clone.fc1.weight, cnn.Parameter)
    np.testing.assert_array_equal(clone.fc1.weight.numpy(force=True),
                                  net.fc1.weight.numpy(force=True))
    p = cnn.Parameter(cr.zeros(2))
    assert repr(p) == "Parameter containing:\ntensor([0., 0.], requires_grad=True)"
    assert p.requires_grad and p.is_leaf
    assert not isinstance(p * 2, cnn.Parameter)
    frozen = cnn.Parameter(cr.zeros(2), requires_grad=False)
    assert not frozen.requires_grad


@pytest.mark.torch
def test_reprs_match_torch():
    import torch

    makers = [
        lambda nn: nn.Linear(3, 2), lambda nn: nn.Conv2d(1, 4, 3, stride=2, padding=1,
                                                         bias=False),
        lambda nn: nn.Conv1d(2, 4, 3, padding="same", padding_mode="reflect", groups=2),
        lambda nn: nn.ConvTranspose2d(2, 3, 3, stride=2, output_padding=1),
        lambda nn: nn.MaxPool2d(2), lambda nn: nn.AvgPool2d(3, 1), lambda nn: nn.AvgPool1d(2),
        lambda nn: nn.AdaptiveAvgPool2d((1, 1)), lambda nn: nn.BatchNorm1d(3),
        lambda nn: nn.LayerNorm([2, 3], elementwise_affine=False), lambda nn: nn.GroupNorm(2, 4),
        lambda nn: nn.Dropout(0.3), lambda nn: nn.Embedding(10, 3, padding_idx=0, max_norm=1.0),
        lambda nn: nn.LSTM(3, 4, 2, batch_first=True, bidirectional=True),
        lambda nn: nn.GRU(3, 4, bias=False), lambda nn: nn.RNN(3, 4, nonlinearity="relu"),
        lambda nn: nn.GRUCell(3, 4, bias=False), lambda nn: nn.LeakyReLU(0.2, inplace=True),
        lambda nn: nn.GELU("tanh"), lambda nn: nn.Softmax(dim=1), lambda nn: nn.Hardtanh(),
        lambda nn: nn.Softplus(), lambda nn: nn.Softshrink(), lambda nn: nn.PReLU(3),
        lambda nn: nn.Flatten(), lambda nn: nn.Unflatten(1, (2, 3)), lambda nn: nn.Identity(),
        lambda nn: nn.TransformerEncoderLayer(4, 2, 8),
        lambda nn: nn.ModuleList([nn.Linear(2, 2), nn.Linear(2, 2), nn.ReLU()]),
        lambda nn: nn.ModuleDict({"a": nn.ReLU()}), lambda nn: nn.Sequential(),
        lambda nn: nn.CrossEntropyLoss(), lambda nn: nn.MSELoss(),
        lambda nn: nn.Sequential(nn.Linear(1, 1), nn.Sequential(nn.Tanh(), nn.ReLU())),
        lambda nn: nn.Upsample(scale_factor=2), lambda nn: nn.ZeroPad2d(1),
        lambda nn: nn.ConstantPad2d(2, 3.5), lambda nn: nn.ReplicationPad2d((1, 0, 2, 1)),
        lambda nn: nn.PixelShuffle(2), lambda nn: nn.Fold((4, 5), (2, 2)),
        lambda nn: nn.Unfold(2, stride=2), lambda nn: nn.TransformerDecoderLayer(4, 2, 8),
        lambda nn: nn.MultiheadAttention(4, 2, kdim=3, vdim=5),
        lambda nn: nn.EmbeddingBag(10, 3, padding_idx=0, mode="sum", max_norm=1.0),
    ]
    for make in makers:
        assert repr(make(cnn)) == repr(make(torch.nn))
    for build in (lambda nn, T: nn.ParameterList([nn.Parameter(T.zeros(2, 3)),
                                                  T.zeros(3).double()]),
                  lambda nn, T: nn.ParameterList([nn.Parameter(T.zeros(2, 3))]),
                  lambda nn, T: nn.ParameterDict({"a": nn.Parameter(T.zeros(2, 3).double()),
                                                  "b": nn.Parameter(T.zeros(1))}),
                  lambda nn, T: nn.ParameterDict(), lambda nn, T: nn.ParameterList()):
        assert repr(build(cnn, cr)) == repr(build(torch.nn, torch))


def test_containers():
    seq = cnn.Sequential(cnn.Linear(2, 3), cnn.ReLU(), cnn.Linear(3, 1))
    assert len(seq) == 3 and isinstance(seq[-1], cnn.Linear)
    tail = seq[1:]
    assert isinstance(tail, cnn.Sequential) and len(tail) == 2
    assert [n for n, _ in tail.named_children()] == ["1", "2"]
    seq.append(cnn.Sigmoid())
    assert isinstance(seq[3], cnn.Sigmoid)
    del seq[1]
    assert [n for n, _ in seq.named_children()] == ["0", "1", "2"]
    with pytest.raises(IndexError, match="index 5 is out of range"):
        seq[5]
    from collections import OrderedDict
    named = cnn.Sequential(OrderedDict(enc=cnn.Linear(2, 2), act=cnn.Tanh()))
    assert list(named.state_dict()) == ["enc.weight", "enc.bias"]
    ml = cnn.ModuleList([cnn.Linear(1, 1)])
    ml.extend([cnn.ReLU()])
    ml.insert(0, cnn.Tanh())
    ml += [cnn.Sigmoid()]
    assert [type(m).__name__ for m in ml] == ["Tanh", "Linear", "ReLU", "Sigmoid"]
    assert [n for n, _ in ml.named_parameters()] == ["1.weight", "1.bias"]
    md = cnn.ModuleDict({"a": cnn.Linear(1, 2)})
    md["b"] = cnn.Linear(2, 1)
    assert list(md.keys()) == ["a", "b"] and "b" in md and len(md) == 2
    assert [n for n, _ in md.named_parameters()][-1] == "b.bias"
    pl = cnn.ParameterList([cnn.Parameter(cr.zeros(2)), cr.ones(3)])
    pl.append(cr.zeros(1))
    assert len(pl) == 3 and all(isinstance(p, cnn.Parameter) for p in pl)
    assert [n for n, _ in pl.named_parameters()] == ["0", "1", "2"]
    pd = cnn.ParameterDict({"w": cr.ones(2)})
    pd["b"] = cnn.Parameter(cr.zeros(1))
    assert list(pd.keys()) == ["w", "b"] and isinstance(pd["w"], cnn.Parameter)
    assert [n for n, _ in pd.named_parameters()] == ["w", "b"]


# -- init ----------------------------------------------------------------------------------
@pytest.mark.torch
def test_calculate_gain_and_fan_errors_match_torch():
    import torch

    for args in [("linear",), ("conv2d",), ("sigmoid",), ("tanh",), ("relu",),
                 ("leaky_relu",), ("leaky_relu", 0.3), ("selu",)]:
        assert cinit.calculate_gain(*args) == torch.nn.init.calculate_gain(*args)
    with pytest.raises(ValueError, match="Unsupported nonlinearity foo"):
        cinit.calculate_gain("foo")
    with pytest.raises(ValueError) as te:
        torch.nn.init.xavier_uniform_(torch.zeros(3))
    with pytest.raises(ValueError) as ce:
        cinit.xavier_uniform_(cr.zeros(3))
    assert str(ce.value) == str(te.value)


def test_init_distributions():
    cr.manual_seed(0)
    w = cr.empty(200, 300)
    fan_in, fan_out = 300, 200
    cinit.kaiming_uniform_(w, a=0, nonlinearity="relu")
    bound = np.sqrt(2.0) * np.sqrt(3.0 / fan_in)
    assert np.abs(w.numpy()).max() <= bound and np.abs(w.numpy()).max() > 0.95 * bound
    cinit.kaiming_normal_(w, mode="fan_out")
    assert abs(w.numpy().std() - np.sqrt(2.0 / (1 + 0.01 ** 2)) / np.sqrt(fan_out)) < 0.01
    cinit.xavier_uniform_(w, gain=2.0)
    b = 2.0 * np.sqrt(6.0 / (fan_in + fan_out))
    assert np.abs(w.numpy()).max() <= b and np.abs(w.numpy()).max() > 0.95 * b
    cinit.xavier_normal_(w)
    assert abs(w.numpy().std() - np.sqrt(2.0 / (fan_in + fan_out))) < 0.005
    cinit.normal_(w, 3.0, 0.5)
    assert abs(w.numpy().mean() - 3.0) < 0.01 and abs(w.numpy().std() - 0.5) < 0.01
    cinit.uniform_(w, -2, 5)
    assert w.numpy().min() >= -2 and w.numpy().max() <= 5
    cinit.trunc_normal_(w, std=2.0, a=-1.0, b=1.5)
    assert w.numpy().min() >= -1.0 and w.numpy().max() <= 1.5
    q = cr.empty(4, 6)
    cinit.orthogonal_(q, gain=3.0)
    np.testing.assert_allclose(q.numpy() @ q.numpy().T, 9.0 * np.eye(4), atol=1e-5)
    cinit.eye_(q)
    np.testing.assert_array_equal(q.numpy(), np.eye(4, 6))
    cinit.constant_(q, 0.5)
    assert (q.numpy() == 0.5).all()
    cinit.zeros_(q)
    assert not q.numpy().any()
    cinit.ones_(q)
    assert (q.numpy() == 1).all()
    k = cr.empty(2, 2, 3, 3)
    cinit.dirac_(k)
    assert k.numpy()[0, 0, 1, 1] == 1 and k.numpy().sum() == 2
    # seeded: same seed, same weights
    cr.manual_seed(7)
    a = cnn.Linear(5, 4).weight.numpy(force=True).copy()
    cr.manual_seed(7)
    assert np.array_equal(a, cnn.Linear(5, 4).weight.numpy(force=True))


def test_default_initialisation_bounds_match_pytorch_scheme():
    cr.manual_seed(0)
    lin = cnn.Linear(400, 300)
    bound = 1 / np.sqrt(400)  # kaiming_uniform_(a=sqrt(5)) gives 1/sqrt(fan_in) too
    w, b = lin.weight.numpy(force=True), lin.bias.numpy(force=True)
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.99 * bound
    assert np.abs(b).max() <= bound and np.abs(b).max() > 0.9 * bound
    conv = cnn.Conv2d(4, 8, 3)
    cb = 1 / np.sqrt(4 * 9)
    assert np.abs(conv.weight.numpy(force=True)).max() <= cb
    emb = cnn.Embedding(1000, 50, padding_idx=3)
    e = emb.weight.numpy(force=True)
    assert abs(e.std() - 1) < 0.02 and not e[3].any()
    lstm = cnn.LSTM(10, 25)
    assert all(np.abs(p.numpy(force=True)).max() <= 1 / 5 for p in lstm.parameters())
    mha = cnn.MultiheadAttention(8, 2)
    assert not mha.in_proj_bias.numpy(force=True).any()
    assert not mha.out_proj.bias.numpy(force=True).any()
    bn = cnn.BatchNorm2d(3)
    assert (bn.weight.numpy(force=True) == 1).all() and (bn.running_var.numpy() == 1).all()


# -- nn.utils ------------------------------------------------------------------------------
@pytest.mark.torch
def test_clip_grad_and_vector_utils_match_torch():
    import torch

    grads = [RNG.standard_normal((3, 4)), RNG.standard_normal(5)]
    for norm_type, max_norm in ((2.0, 1.0), (1.0, 0.5), (float("inf"), 0.3), (2.0, 100.0)):
        tps = [torch.nn.Parameter(torch.zeros(g.shape, dtype=torch.float64)) for g in grads]
        cps = [cnn.Parameter(cr.zeros(*g.shape, dtype=cr.float64)) for g in grads]
        for tp, cp, g in zip(tps, cps, grads):
            tp.grad, cp.grad = torch.tensor(g), cr.tensor(g)
        tn = torch.nn.utils.clip_grad_norm_(tps, max_norm, norm_type)
        cn = cnn.utils.clip_grad_norm_(cps, max_norm, norm_type)
        np.testing.assert_allclose(cn.item(), tn.item(), rtol=1e-12)
        for tp, cp in zip(tps, cps):
            np.testing.assert_allclose(cp.grad.numpy(), tp.grad.numpy(), rtol=1e-12)
    tps = [torch.nn.Parameter(torch.zeros(g.shape, dtype=torch.float64)) for g in grads]
    cps = [cnn.Parameter(cr.zeros(*g.shape, dtype=cr.float64)) for g in grads]
    for tp, cp, g in zip(tps, cps, grads):
        tp.grad, cp.grad = torch.tensor(g), cr.tensor(g)
    torch.nn.utils.clip_grad_value_(tps, 0.5)
    cnn.utils.clip_grad_value_(cps, 0.5)
    for tp, cp in zip(tps, cps):
        np.testing.assert_array_equal(cp.grad.numpy(), tp.grad.numpy())
    cps[0].grad = cr.tensor(np.full((3, 4), np.inf))
    with pytest.raises(RuntimeError, match="non-finite"):
        cnn.utils.clip_grad_norm_(cps, 1.0, error_if_nonfinite=True)
    lin = cnn.Linear(3, 2)
    try:
        vec = cnn.utils.parameters_to_vector(lin.parameters())
    except AttributeError as e:
        _skip_if_missing(e)
    assert vec.shape == (8,)
    cnn.utils.vector_to_parameters(cr.arange(8.0), lin.parameters())
    np.testing.assert_array_equal(lin.weight.numpy(force=True), np.arange(6.0).reshape(2, 3))
    np.testing.assert_array_equal(lin.bias.numpy(force=True), [6.0, 7.0])


# -- variable-length sequences ---------------------------------------------------------------
@pytest.mark.torch
def test_pack_pad_helpers_match_torch():
    import torch
    from torch.nn.utils import rnn as trnn

    from chainrule.nn.utils import rnn as crnn

    x = RNG.standard_normal((5, 3, 2))
    for lengths, sort in (([2, 5, 3], False), ([5, 3, 2], True)):
        for bf in (False, True):
            xi = x.transpose(1, 0, 2) if bf else x
            tp = trnn.pack_padded_sequence(torch.tensor(xi), lengths, batch_first=bf,
                                           enforce_sorted=sort)
            cp = crnn.pack_padded_sequence(cr.tensor(xi), lengths, batch_first=bf,
                                           enforce_sorted=sort)
            np.testing.assert_array_equal(cp.data.numpy(), tp.data.numpy())
            np.testing.assert_array_equal(cp.batch_sizes.numpy(), tp.batch_sizes.numpy())
            for a, b in ((cp.sorted_indices, tp.sorted_indices),
                         (cp.unsorted_indices, tp.unsorted_indices)):
                assert (a is None) == (b is None)
                if a is not None:
                    np.testing.assert_array_equal(a.numpy(), b.numpy())
            tpad, tl = trnn.pad_packed_sequence(tp, batch_first=bf, padding_value=-1.0,
                                                total_length=6)
            cpad, cl = crnn.pad_packed_sequence(cp, batch_first=bf, padding_value=-1.0,
                                                total_length=6)
            np.testing.assert_array_equal(cpad.numpy(), tpad.numpy())
            np.testing.assert_array_equal(cl.numpy(), tl.numpy())
    with pytest.raises(RuntimeError, match="must be sorted in decreasing order"):
        crnn.pack_padded_sequence(cr.tensor(x), [2, 5, 3])
    seqs = [RNG.standard_normal((n, 2)) for n in (3, 1, 4)]
    for bf, side in ((False, "right"), (True, "left")):
        t = trnn.pad_sequence([torch.tensor(s) for s in seqs], batch_first=bf,
                              padding_value=9.0, padding_side=side)
        c = crnn.pad_sequence([cr.tensor(s) for s in seqs], batch_first=bf, padding_value=9.0,
                              padding_side=side)
        np.testing.assert_array_equal(c.numpy(), t.numpy())
    tp = trnn.pack_sequence([torch.tensor(s) for s in seqs], enforce_sorted=False)
    cp = crnn.pack_sequence([cr.tensor(s) for s in seqs], enforce_sorted=False)
    np.testing.assert_array_equal(cp.data.numpy(), tp.data.numpy())
    for a, b in zip(crnn.unpack_sequence(cp), trnn.unpack_sequence(tp)):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


@pytest.mark.torch
@pytest.mark.parametrize("kind", ["LSTM", "GRU", "RNN"])
def test_rnn_on_packed_sequences_matches_torch(kind):
    import torch
    from torch.nn.utils import rnn as trnn

    from chainrule.nn.utils import rnn as crnn

    def make(nn, T):
        return getattr(nn, kind)(3, 4, num_layers=2, bidirectional=True, batch_first=True)

    tm, cm = _build_pair(make)
    x = RNG.standard_normal((3, 6, 3))
    lengths = [4, 6, 2]
    tx = torch.tensor(x, requires_grad=True)
    cx = cr.tensor(x, requires_grad=True)
    tout, tstate = tm(trnn.pack_padded_sequence(tx, lengths, batch_first=True,
                                                enforce_sorted=False))
    cout, cstate = cm(crnn.pack_padded_sequence(cx, lengths, batch_first=True,
                                                enforce_sorted=False))
    assert isinstance(cout, crnn.PackedSequence)
    np.testing.assert_allclose(cout.data.detach().numpy(), tout.data.detach().numpy(),
                               rtol=1e-7, atol=1e-9)
    tpad, _ = trnn.pad_packed_sequence(tout, batch_first=True)
    cpad, _ = crnn.pad_packed_sequence(cout, batch_first=True)
    np.testing.assert_allclose(cpad.detach().numpy(), tpad.detach().numpy(), rtol=1e-7,
                               atol=1e-9)
    tstates, cstates = _flat(tstate), _flat(cstate)
    for c, t in zip(cstates, tstates):
        np.testing.assert_allclose(c.detach().numpy(), t.detach().numpy(), rtol=1e-7,
                                   atol=1e-9)
    up = RNG.standard_normal(tuple(tpad.shape))
    ((tpad * torch.tensor(up)).sum() + sum(s.sum() for s in tstates)).backward()
    ((cpad * cr.tensor(up)).sum() + sum(s.sum() for s in cstates)).backward()
    np.testing.assert_allclose(cx.grad.numpy(), tx.grad.numpy(), rtol=1e-7, atol=1e-9)
    cparams = dict(cm.named_parameters())
    for k, tp in tm.named_parameters():
        np.testing.assert_allclose(cparams[k].grad.numpy(), tp.grad.numpy(), rtol=1e-7,
                                   atol=1e-9, err_msg=k)


@pytest.mark.torch
def test_full_backward_hooks_match_torch():
    import torch

    results = []
    for lib, T in ((torch.nn, torch), (cnn, cr)):
        T.manual_seed(0)
        lin = lib.Linear(3, 2).double()
        lin.weight.data = T.tensor(np.arange(6.0).reshape(2, 3))
        seen = []

        def hook(m, gi, go, seen=seen):
            seen.append(([None if g is None else g.detach().numpy().copy() for g in gi],
                         [g.detach().numpy().copy() for g in go]))

        lin.register_full_backward_hook(hook)
        x = T.tensor(np.ones((4, 3)), requires_grad=True)
        (lin(x) * T.tensor(np.arange(8.0).reshape(4, 2))).sum().backward()
        lin(T.tensor(np.ones((4, 3)))).sum().backward()  # no input needs grad
        scale = lib.Identity()
        scale.register_full_backward_hook(lambda m, gi, go: (gi[0] * 10,))
        y = T.tensor(np.ones(3), requires_grad=True)
        (scale(y) * 2).sum().backward()
        results.append((seen, y.grad.numpy().copy(), x.grad.numpy().copy()))
    (t_seen, t_y, t_x), (c_seen, c_y, c_x) = results
    assert len(c_seen) == len(t_seen) == 2
    for (tgi, tgo), (cgi, cgo) in zip(t_seen, c_seen):
        assert [g is None for g in cgi] == [g is None for g in tgi]
        for a, b in zip(cgi + cgo, tgi + tgo):
            if b is not None:
                np.testing.assert_allclose(a, b)
    np.testing.assert_allclose(c_y, t_y)
    np.testing.assert_allclose(c_x, t_x)


@pytest.mark.parametrize("modname", [
    "chainrule.nn.modules.module", "chainrule.nn.modules.container",
    "chainrule.nn.modules.linear", "chainrule.nn.modules.conv",
    "chainrule.nn.modules.pooling", "chainrule.nn.modules.flatten",
    "chainrule.nn.modules.loss", "chainrule.nn.modules.normalization",
    "chainrule.nn.modules.sparse", "chainrule.nn.modules.rnn",
    "chainrule.nn.modules.transformer", "chainrule.nn.init", "chainrule.nn.parameter",
    "chainrule.nn.utils.clip_grad", "chainrule.nn.utils.convert_parameters",
    "chainrule.nn.utils.rnn", "chainrule.nn.utils.weight_norm",
    "chainrule.nn.utils.spectral_norm", "chainrule.nn.utils.parametrize",
    "chainrule.nn.utils.parametrizations",
    "chainrule.optim.optimizer", "chainrule.optim.lr_scheduler",
    "chainrule.optim.lbfgs", "chainrule.optim.swa_utils",
    "chainrule.utils.data", "chainrule.serialization"])
def test_docstring_examples_run(modname):
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(modname), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0


# -- end to end: the same PyTorch-style script on both libraries -------------------------------
def _training_script(torch, data, tmp_path):
    """Typical PyTorch code, written once against the ``torch`` namespace it is given."""
    nn, F = torch.nn, torch.nn.functional
    from_ds = torch.utils.data

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(1, 4, 3, padding=1)
            self.bn = nn.BatchNorm2d(4)
            self.fc = nn.Linear(4 * 2 * 2, 3)

        def forward(self, x):
            x = F.max_pool2d(F.relu(self.bn(self.conv(x))), 2)
            return self.fc(torch.flatten(x, 1))

    torch.manual_seed(0)
    model = Net().double()

    def init_weights(m):
        if isinstance(m, nn.Linear):
            m.weight.data = torch.tensor(data["fc_w"])
            nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Conv2d):
            m.weight.data = torch.tensor(data["conv_w"])
            nn.init.constant_(m.bias, 0.1)

    model.apply(init_weights)
    ds = from_ds.TensorDataset(torch.tensor(data["x"]), torch.tensor(data["y"]))
    loader = from_ds.DataLoader(ds, batch_size=8, shuffle=False, drop_last=True)
    opt = torch.optim.Adam(model.parameters(), lr=0.01, weight_decay=1e-3)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=3, gamma=0.5)
    losses = []
    for _ in range(4):
        model.train()
        for xb, yb in loader:
            opt.zero_grad(set_to_none=True)
            loss = F.cross_entropy(model(xb), yb)
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), max_norm=0.5)
            opt.step()
            losses.append(loss.item())
        sched.step()
    model.eval()
    with torch.no_grad():
        eval_logits = model(torch.tensor(data["x"]))
    path = str(tmp_path / f"{torch.__name__}.pt")
    torch.save({"model": model.state_dict(), "opt": opt.state_dict()}, path)
    ckpt = torch.load(path, weights_only=True)
    clone = Net().double()
    clone.load_state_dict(ckpt["model"])
    clone.eval()
    with torch.no_grad():
        assert (clone(torch.tensor(data["x"])) == eval_logits).all()
    return losses, eval_logits.numpy(), {k: v.numpy() for k, v in model.state_dict().items()}


@pytest.mark.torch
def test_same_training_script_matches_torch(tmp_path):
    import torch

    rng = np.random.default_rng(3)
    data = {"x": rng.standard_normal((20, 1, 4, 4)), "y": rng.integers(0, 3, 20),
            "fc_w": rng.standard_normal((3, 16)) * 0.3,
            "conv_w": rng.standard_normal((4, 1, 3, 3)) * 0.3}
    t_losses, t_logits, t_state = _training_script(torch, data, tmp_path)
    try:
        c_losses, c_logits, c_state = _training_script(cr, data, tmp_path)
    except AttributeError as e:
        _skip_if_missing(e)
    np.testing.assert_allclose(c_losses, t_losses, rtol=1e-8)
    np.testing.assert_allclose(c_logits, t_logits, rtol=1e-7, atol=1e-9)
    assert list(c_state) == list(t_state)
    for k in t_state:
        np.testing.assert_allclose(c_state[k], t_state[k], rtol=1e-7, atol=1e-9, err_msg=k)



@pytest.mark.torch
@pytest.mark.filterwarnings("ignore::FutureWarning")
@pytest.mark.parametrize("make,dim,shape", [
    (lambda nn: nn.Linear(3, 2), 0, (4, 3)), (lambda nn: nn.Linear(3, 2), 1, (4, 3)),
    (lambda nn: nn.Conv1d(2, 3, 2), None, (2, 2, 5)),
    (lambda nn: nn.Conv1d(2, 3, 2), 2, (1, 2, 4))])
def test_weight_norm_matches_torch(make, dim, shape):
    import torch

    tm = torch.nn.utils.weight_norm(make(torch.nn).double(), dim=dim)
    cm = cnn.utils.weight_norm(make(cnn).double(), dim=dim)
    assert list(cm.state_dict()) == list(tm.state_dict())
    cm.load_state_dict({k: cr.tensor(v.numpy()) for k, v in tm.state_dict().items()})
    x = RNG.standard_normal(shape)
    tx, cx = torch.tensor(x, requires_grad=True), cr.tensor(x, requires_grad=True)
    tm(tx).pow(2).sum().backward()
    cm(cx).pow(2).sum().backward()
    np.testing.assert_allclose(cx.grad.numpy(), tx.grad.numpy(), rtol=1e-9)
    for k in ("weight_g", "weight_v"):
        np.testing.assert_allclose(getattr(cm, k).grad.numpy(), getattr(tm, k).grad.numpy(),
                                   rtol=1e-9, err_msg=k)
    with pytest.raises(RuntimeError, match="Cannot register two weight_norm hooks"):
        cnn.utils.weight_norm(cm, dim=dim)
    torch.nn.utils.remove_weight_norm(tm)
    cnn.utils.remove_weight_norm(cm)
    assert list(cm.state_dict()) == list(tm.state_dict())
    np.testing.assert_allclose(cm.weight.detach().numpy(), tm.weight.detach().numpy(),
                               rtol=1e-12)
    with pytest.raises(ValueError, match="weight_norm of 'weight' not found"):
        cnn.utils.remove_weight_norm(cm)



@pytest.mark.torch
@pytest.mark.parametrize("make,kw,shape", [
    (lambda nn: nn.Linear(4, 3), {}, (2, 4)),
    (lambda nn: nn.Conv2d(2, 3, 2), {"n_power_iterations": 3}, (1, 2, 4, 4)),
    (lambda nn: nn.ConvTranspose1d(3, 2, 2), {}, (2, 3, 4))])
def test_spectral_norm_matches_torch(make, kw, shape):
    import torch

    tm = torch.nn.utils.spectral_norm(make(torch.nn).double(), **kw)
    cm = cnn.utils.spectral_norm(make(cnn).double(), **kw)
    assert sorted(cm.state_dict()) == sorted(tm.state_dict())
    cm.load_state_dict({k: cr.tensor(v.numpy()) for k, v in tm.state_dict().items()})
    for step in range(3):
        if step == 2:
            tm.eval()
            cm.eval()
        x = RNG.standard_normal(shape)
        tx, cx = torch.tensor(x, requires_grad=True), cr.tensor(x, requires_grad=True)
        to, co = tm(tx), cm(cx)
        np.testing.assert_allclose(co.detach().numpy(), to.detach().numpy(), rtol=1e-9)
        to.pow(2).sum().backward()
        co.pow(2).sum().backward()
        np.testing.assert_allclose(cx.grad.numpy(), tx.grad.numpy(), rtol=1e-9)
        np.testing.assert_allclose(cm.weight_orig.grad.numpy(), tm.weight_orig.grad.numpy(),
                                   rtol=1e-8, atol=1e-12)
        for k in ("weight_u", "weight_v"):
            np.testing.assert_allclose(getattr(cm, k).numpy(), getattr(tm, k).numpy(),
                                       rtol=1e-10, err_msg=k)
    torch.nn.utils.remove_spectral_norm(tm)
    cnn.utils.remove_spectral_norm(cm)
    assert sorted(cm.state_dict()) == sorted(tm.state_dict())
    np.testing.assert_allclose(cm.weight.detach().numpy(), tm.weight.detach().numpy(),
                               rtol=1e-10)


@pytest.mark.torch
@pytest.mark.parametrize("which", ["weight_norm", "weight_norm-dim1", "spectral_norm",
                                   "spectral_norm-convT", "custom"])
def test_parametrizations_match_torch(which):
    import torch

    def build(nn, T):
        P = nn.utils.parametrizations
        if which == "weight_norm":
            return P.weight_norm(nn.Linear(3, 2).double()), (4, 3)
        if which == "weight_norm-dim1":
            return P.weight_norm(nn.Conv1d(2, 3, 2).double(), dim=1), (2, 2, 5)
        if which == "spectral_norm":
            return P.spectral_norm(nn.Linear(4, 3).double(), n_power_iterations=2), (2, 4)
        if which == "spectral_norm-convT":
            return P.spectral_norm(nn.ConvTranspose1d(3, 2, 2).double()), (2, 3, 4)

        class Symmetric(nn.Module):
            def forward(self, x):
                return x.triu() + x.triu(1).transpose(0, 1)

        m = nn.Linear(3, 3).double()
        nn.utils.parametrize.register_parametrization(m, "weight", Symmetric())
        return m, (2, 3)

    tm, shape = build(torch.nn, torch)
    cm, _ = build(cnn, cr)
    assert type(cm).__name__ == type(tm).__name__
    assert repr(cm) == repr(tm)
    assert list(cm.state_dict()) == list(tm.state_dict())
    assert [n for n, _ in cm.named_parameters()] == [n for n, _ in tm.named_parameters()]
    cm.load_state_dict({k: cr.tensor(v.numpy()) for k, v in tm.state_dict().items()})
    for step in range(3):
        if step == 2:
            tm.eval()
            cm.eval()
        x = RNG.standard_normal(shape)
        tx, cx = torch.tensor(x, requires_grad=True), cr.tensor(x, requires_grad=True)
        to, co = tm(tx), cm(cx)
        np.testing.assert_allclose(co.detach().numpy(), to.detach().numpy(), rtol=1e-9)
        to.pow(2).sum().backward()
        co.pow(2).sum().backward()
        np.testing.assert_allclose(cx.grad.numpy(), tx.grad.numpy(), rtol=1e-9)
        cparams = dict(cm.named_parameters())
        for k, p in tm.named_parameters():
            np.testing.assert_allclose(cparams[k].grad.numpy(), p.grad.numpy(), rtol=1e-8,
                                       atol=1e-12, err_msg=k)
        for k, b in tm.named_buffers():
            np.testing.assert_allclose(dict(cm.named_buffers())[k].numpy(), b.numpy(),
                                       rtol=1e-10, err_msg=k)
    torch.nn.utils.parametrize.remove_parametrizations(tm, "weight")
    cnn.utils.parametrize.remove_parametrizations(cm, "weight")
    assert type(cm).__name__ == type(tm).__name__
    assert list(cm.state_dict()) == list(tm.state_dict())
    np.testing.assert_allclose(cm.weight.detach().numpy(), tm.weight.detach().numpy(),
                               rtol=1e-10)
    assert not cnn.utils.parametrize.is_parametrized(cm)
