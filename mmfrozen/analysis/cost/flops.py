"""FLOPs of one training step, counted with ``mmengine.analysis.FlopAnalyzer``.

The forward is the detector's training forward (``mode='loss'``: RPN, proposal sampling, RoI
heads, losses), traced once on the benchmark's batch. ``FlopAnalyzer`` counts one fused
multiply-add as one FLOP (fvcore convention) for convolutions, matmuls, linear layers, norms and
upsampling; element-wise ops and custom ops (RoIAlign, NMS) are not counted.

Backward is not traced. It is counted as 2x the forward FLOPs (gradient w.r.t. the inputs and
w.r.t. the weights) of every top-level component of the detector (backbone, neck, each head) that
holds at least one trainable parameter, and as zero for a component without any: a frozen
backbone sits at the input of the detector, so no gradient flows through it.
"""
from typing import Dict

import torch
from mmengine.analysis import FlopAnalyzer
from torch import nn


class _LossForward(nn.Module):
    """``model.loss`` on fixed data samples, summed to one tensor, for tracing."""

    def __init__(self, model: nn.Module, data_samples) -> None:
        super().__init__()
        self.model = model
        self.data_samples = data_samples

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        losses = self.model.loss(inputs, self.data_samples)
        loss, _ = self.model.parse_losses(losses)
        return loss


def train_step_flops(model: nn.Module, data: dict) -> Dict[str, float]:
    """Forward, backward and total FLOPs of one training step on preprocessed ``data``.

    Args:
        model: The detector, in train mode, frozen as it trains.
        data: Output of ``model.data_preprocessor(batch, True)``.

    Returns:
        ``forward``, ``backward``, ``total`` and per-component ``forward_by_component``.
    """
    analyzer = FlopAnalyzer(_LossForward(model, data['data_samples']), (data['inputs'], ))
    analyzer.unsupported_ops_warnings(False)
    analyzer.uncalled_modules_warnings(False)
    analyzer.tracer_warnings('none')
    by_module = analyzer.by_module()
    forward = float(analyzer.total())
    components = {}
    backward = 0.0
    for name, child in model.named_children():
        flops = float(by_module.get(f'model.{name}', 0))
        components[name] = flops
        if any(p.requires_grad for p in child.parameters()):
            backward += 2 * flops
    return dict(forward=forward, backward=backward, total=forward + backward,
                forward_by_component=components)
