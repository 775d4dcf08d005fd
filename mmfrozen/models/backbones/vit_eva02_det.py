"""``ViTEVA02Det``: mmpretrain's EVA-02 ViT with resolution-free state, for detection.

EVA-02 (Fang et al., "EVA-02: A Visual Representation for Neon Genesis", 2023) encodes token
positions with 2D rotary embeddings (RoPE). mmpretrain's ``ViTEVA02`` keeps the RoPE tables as
persistent buffers and re-registers them whenever the input's patch grid changes, so a
detector, whose inputs change size between training and testing, would change the backbone's
state while running it: a frozen backbone's fingerprint would differ after every change of
resolution, and checkpoints would carry tables of whatever size ran last. Here the tables are
non-persistent buffers recomputed for each patch grid: the same numbers, outside the state.
"""
from typing import Tuple

import torch
from mmpretrain.models.backbones import ViTEVA02
from mmpretrain.models.utils import RotaryEmbeddingFast

from mmdet.registry import MODELS

_TABLES = ('freqs_cos', 'freqs_sin')


class _GridRoPE(RotaryEmbeddingFast):
    """mmpretrain's RoPE with its tables as non-persistent buffers."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._set_tables(*self.compute_position_embedding())

    def _set_tables(self, cos: torch.Tensor, sin: torch.Tensor) -> None:
        for name, table in zip(_TABLES, (cos, sin)):
            self.register_buffer(name, table, persistent=False)

    def forward(self, x: torch.Tensor, patch_resolution: Tuple[int, int]) -> torch.Tensor:
        patch_resolution = tuple(patch_resolution)
        if patch_resolution != self.patch_resolution:
            self.patch_resolution = patch_resolution
            self._set_tables(*(t.to(x.device) for t in self.compute_position_embedding()))
        return super().forward(x, patch_resolution)


def _drop_rope_tables(state_dict, prefix, *args) -> None:
    """Checkpoints of mmpretrain's ``ViTEVA02`` hold the tables; they are recomputed here."""
    for key in [k for k in state_dict if k.startswith(prefix) and k.rsplit('.', 1)[-1] in _TABLES
                and '.rope.' in '.' + k[len(prefix):]]:
        del state_dict[key]


@MODELS.register_module()
class ViTEVA02Det(ViTEVA02):
    """mmpretrain ``ViTEVA02`` whose RoPE tables are not part of its state.

    Same arguments, weights and outputs as ``mmpretrain.ViTEVA02``; its checkpoints load
    unchanged (their RoPE tables are ignored: they are a function of the patch grid).
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.rope = _GridRoPE(embed_dims=self.embed_dims // self.num_heads,
                              patch_resolution=self.patch_resolution)
        for layer in self.layers:
            layer.attn.rope = self.rope
        self._register_load_state_dict_pre_hook(_drop_rope_tables)
