"""Fingerprints: per-tensor digests that prove a frozen module never changed, in a run and
across its checkpoints (half-precision copies included)."""
import hashlib
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Tuple

import torch
from torch import nn

from .spec import SPEC_ATTR, frozen_tensors, resolve_module


def tensor_digest(tensor: torch.Tensor, dtype: Optional[torch.dtype] = None) -> str:
    """Digest of a tensor's dtype, shape and bytes (any device, any dtype).

    With ``dtype``, a floating-point tensor is digested as cast to it: the value a model of that
    dtype holds after loading it (``load_state_dict`` copies an fp16 checkpoint tensor into an
    fp32 parameter exactly).
    """
    t = tensor.detach()
    if dtype is not None and t.is_floating_point() and dtype.is_floating_point:
        t = t.to(dtype)
    h = hashlib.blake2b(digest_size=12)
    h.update(f'{t.dtype}{tuple(t.shape)}'.encode())
    if t.numel():  # hashed where it lies: no bytes copy of the tensor
        h.update(t.cpu().contiguous().reshape(-1).view(torch.uint8).numpy())
    return h.hexdigest()


class FrozenModuleChanged(RuntimeError):
    """A frozen tensor changed: something trained, or wrote into, a frozen module."""


_TRAINED_IN_RUN = ('Something trained or overwrote a frozen module (a second optimizer, a hook '
                   'that loads weights, or code that sets requires_grad=True); the run was '
                   'stopped so no checkpoint with a changed backbone is written.')
#: The cause named when a checkpoint's frozen weights differ from the fingerprints it records.
EDITED_CHECKPOINT = ('The checkpoint\'s weights were changed after it was written (edited, '
                     'converted or merged with another checkpoint): its frozen module is not '
                     'the one that was trained with. Use the checkpoint as it was written.')


#: Meta key under which a checkpoint records the fingerprints of its frozen modules, by path.
FINGERPRINTS_KEY = 'mmfrozen_fingerprints'
#: The half-precision dtypes a fingerprint also records digests in: a copy of a checkpoint cast
#: to one of them (as released "slim" checkpoints are) is then verified exactly.
HALF_DTYPES = (torch.float16, torch.bfloat16)
#: dtype -> the name a fingerprint's ``half`` digests are keyed by (``'float16'``).
_HALF_NAMES = {d: str(d).replace('torch.', '') for d in HALF_DTYPES}


@dataclass
class Fingerprint:
    """Per-tensor digests of the frozen parameters and buffers of one frozen module.

    ``trainable`` records the ``trainable`` patterns of the spec it was taken with (None for
    fingerprints saved without it): another spec covers other tensors, which is not a change.
    ``half`` holds, per dtype name of :data:`HALF_DTYPES`, the digests of the floating-point
    tensors cast to that dtype (None for fingerprints taken without them, as before mmfrozen
    recorded them).
    """
    path: str
    digests: Dict[str, str]
    trainable: Optional[Tuple[str, ...]] = None
    half: Optional[Dict[str, Dict[str, str]]] = None

    @classmethod
    def of_tensors(cls, path: str, tensors: Dict[str, torch.Tensor],
                   trainable: Optional[Tuple[str, ...]], half: bool = True) -> 'Fingerprint':
        """Fingerprint ``tensors`` (names relative to the module at ``path``); with ``half``, the
        digests of their half-precision casts too."""
        halves = None
        if half:
            halves = {name: {n: tensor_digest(t, d) for n, t in tensors.items()
                             if t.is_floating_point()}
                      for d, name in _HALF_NAMES.items()}
        return cls(path, {n: tensor_digest(t) for n, t in tensors.items()},
                   None if trainable is None else tuple(trainable), halves)

    @classmethod
    def of(cls, model: nn.Module, path: str, half: bool = True) -> 'Fingerprint':
        """Fingerprint the frozen tensors of ``model``'s module at ``path`` (with ``half``, also
        in :data:`HALF_DTYPES`: done once per run, for the checkpoints it writes)."""
        root = resolve_module(model, path)
        return cls.of_tensors(path, dict(frozen_tensors(root)),
                              tuple(getattr(root, SPEC_ATTR).trainable), half)

    def coverage_note(self, other: 'Fingerprint') -> Optional[str]:
        """Why ``other`` covers other tensors than this fingerprint, or None if it does not."""
        only_here = [n for n in self.digests if n not in other.digests]
        only_there = [n for n in other.digests if n not in self.digests]
        if not only_here and not only_there:
            return None
        where = self.path or 'the model'
        if self.trainable is not None and other.trainable != self.trainable:
            why = (f'the freeze spec of {where!r} (trainable={list(other.trainable or ())}) '
                   "differs from the one the checkpoint's fingerprint was taken with "
                   f'(trainable={list(self.trainable)})')
        else:
            why = (f"the frozen tensors of {where!r} are not those the checkpoint's "
                   'fingerprint covers')
        examples = ''.join(
            f'; {len(names)} only {side} (e.g. {names[0]!r})'
            for names, side in ((only_here, 'in the fingerprint'), (only_there, 'frozen now'))
            if names)
        both = len(self.digests) - len(only_here)
        return (f'mmfrozen: {why}: the fingerprint covers {len(self.digests)} tensors, this run '
                f'freezes {len(other.digests)}{examples}. Only the {both} tensors both cover '
                'are compared; a tensor only one side covers is not a change.')

    def _half_copies(self, tensors: Dict[str, torch.Tensor],
                     names: List[str]) -> Tuple[Dict[str, str], List[str]]:
        """Which of the tensors ``names`` of ``tensors`` hold exactly the half-precision rounding
        of the fingerprinted ones: ``({name: dtype name}, names of dtypes all of the others
        hold exactly, so that only the digests this fingerprint lacks could tell)``.

        Raises:
            FrozenModuleChanged: a rounded tensor holds inf or NaN: the cast overflowed (fp16
                holds magnitudes up to 65504), so the copy does not hold the weights it rounds.
        """
        rounded: Dict[str, str] = {}
        for name in names:
            t = tensors[name].detach()
            for dtype, key in _HALF_NAMES.items():
                digest = (self.half or {}).get(key, {}).get(name)
                if (digest is not None and t.is_floating_point()
                        and torch.equal(t, t.to(dtype).to(t.dtype))
                        and tensor_digest(t, dtype) == digest):
                    rounded[name] = key
                    break
            bad = int((~torch.isfinite(t)).sum()) if name in rounded else 0
            if bad:
                full = f'{self.path}.{name}' if self.path else name
                raise FrozenModuleChanged(
                    f'mmfrozen: frozen tensor {full!r} of the half-precision ({rounded[name]}) '
                    f'copy holds {bad} inf/NaN values: {rounded[name]} holds magnitudes up to '
                    f'{torch.finfo(getattr(torch, rounded[name])).max:g} and larger weights '
                    'overflow to inf in the cast; the model would run with them. Make the copy '
                    'in bfloat16 (the range of float32) or keep this tensor in float32, or use '
                    'the full-precision checkpoint.')
        rest = [tensors[n].detach() for n in names if n not in rounded]
        exact = [name for d, name in _HALF_NAMES.items()
                 if rest and all(t.is_floating_point() and torch.equal(t, t.to(d).to(t.dtype))
                                 for t in rest)]
        return rounded, exact

    def check(self, model: nn.Module, when: str, cause: str = _TRAINED_IN_RUN,
              other_coverage: bool = False, half_copy: bool = False,
              resumed: bool = False) -> Optional[str]:
        """Raise :class:`FrozenModuleChanged` if ``model`` no longer matches this fingerprint.

        Args:
            model: The model holding the frozen module.
            when: For the message, e.g. ``'after epoch 3'``.
            cause: For the message: what probably changed the tensor.
            other_coverage: Accept that the module now freezes other tensors than the
                fingerprint covers (a checkpoint's fingerprint under another freeze spec) and
                compare those both cover; otherwise that is an error too.
            half_copy: The model was just loaded from a checkpoint that may be a half-precision
                copy of the one that recorded this fingerprint: accept a tensor that holds
                exactly the fp16 or bf16 rounding of the fingerprinted one (its half digest
                matches), and say so in the returned note.
            resumed: With ``half_copy``: the checkpoint was resumed, so the run that wrote it
                continues; a half-precision copy is refused (its frozen module would switch to
                the rounded values mid-run).

        Returns:
            The :meth:`coverage_note` when the covered tensors differ and, for a half-precision
            copy, what it holds; else None.
        """
        root = resolve_module(model, self.path)
        return self.check_tensors(dict(frozen_tensors(root)),
                                  tuple(getattr(root, SPEC_ATTR).trainable), when, cause,
                                  other_coverage, half_copy, resumed)

    def check_tensors(self, tensors: Dict[str, torch.Tensor], trainable: Tuple[str, ...],
                      when: str, cause: str = _TRAINED_IN_RUN, other_coverage: bool = False,
                      half_copy: bool = False, resumed: bool = False) -> Optional[str]:
        """:meth:`check` on the frozen tensors themselves, held by a model or by a state dict.

        Args:
            tensors: The frozen tensors of the module at :attr:`path`, by name relative to it.
            trainable: The ``trainable`` patterns of the spec they are frozen under.
            when, cause, other_coverage, half_copy, resumed: As for :meth:`check`.
        """
        now = Fingerprint.of_tensors(self.path, tensors, trainable, half=False)
        note = self.coverage_note(now)
        where = self.path or 'the model'
        if note is not None and not other_coverage:
            raise FrozenModuleChanged(f'{note} ({when}): part of {where!r} was replaced after '
                                      'it was fingerprinted. ' + cause)
        common = [n for n in self.digests if n in now.digests]
        changed = [n for n in common if now.digests[n] != self.digests[n]]
        rounded: Dict[str, str] = {}
        exact: List[str] = []
        if changed and half_copy:
            rounded, exact = self._half_copies(tensors, changed)
            changed = [n for n in changed if n not in rounded]
        if rounded and resumed:
            full = f'{self.path}.{next(iter(rounded))}' if self.path else next(iter(rounded))
            raise FrozenModuleChanged(
                f'mmfrozen: the resumed checkpoint is a half-precision '
                f'({", ".join(sorted(set(rounded.values())))}) copy: {len(rounded)} of '
                f'{len(common)} frozen tensors of {where!r} (first: {full!r}) hold the rounding '
                'of the weights the run was trained with. Resuming continues that run, whose '
                'frozen module would switch to the rounded values mid-run (and its next '
                'checkpoints would fingerprint them). Resume from the full-precision checkpoint; '
                'a half-precision copy can only start a new run: load_from=<copy> with '
                'resume=False.')
        if changed:
            full = f'{self.path}.{changed[0]}' if self.path else changed[0]
            hint = ''
            if exact and not self.half:
                hint = (f' All {len(changed)} hold exactly {" or ".join(exact)} values: this looks '
                        'like a half-precision copy of a checkpoint whose fingerprints were '
                        'written without half-precision digests (an older mmfrozen), which '
                        'cannot be verified. Use the full-precision checkpoint; or, if you '
                        'trust the copy, remove its fingerprints (the frozen weights are then '
                        'checked against the copy only, not against the weights it was made '
                        'from): ckpt = mmfrozen.checkpoint.read_checkpoint(path); del '
                        f"ckpt['meta']['{FINGERPRINTS_KEY}']; torch.save(ckpt, path).")
            raise FrozenModuleChanged(
                f'mmfrozen: frozen tensor {full!r} changed ({when}); {len(changed)} of '
                f'{len(common)} frozen tensors of {where!r} differ from the fingerprint taken '
                f'after the pretrained weights were loaded. {cause}{hint}' +
                (f' Note: {note}' if note else ''))
        if rounded:
            kinds = sorted(set(rounded.values()))
            half_note = (f'mmfrozen: the checkpoint is a half-precision ({", ".join(kinds)}) copy: '
                         f'{len(rounded)} of {len(common)} frozen tensors of {where!r} hold '
                         'exactly the rounding of the weights its fingerprint was taken on '
                         '(verified with its half-precision digests); the frozen module keeps '
                         'those rounded values.')
            note = half_note + (f' {note}' if note else '')
        return note

    def to_dict(self) -> Dict[str, Any]:
        d: Dict[str, Any] = {'path': self.path, 'digests': dict(self.digests)}
        if self.trainable is not None:
            d['trainable'] = list(self.trainable)
        if self.half is not None:
            d['half'] = {k: dict(v) for k, v in self.half.items()}
        return d

    @classmethod
    def from_dict(cls, d: Dict[str, Any]) -> 'Fingerprint':
        trainable = d.get('trainable')
        half = d.get('half')
        return cls(d['path'], dict(d['digests']),
                   None if trainable is None else tuple(trainable),
                   None if half is None else {k: dict(v) for k, v in half.items()})
