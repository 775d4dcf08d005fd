"""Where the weights of a built model's frozen modules come from, and the checks that they
really did (what its config asks for is read by :mod:`mmfrozen.config.pretrained`).

A frozen module that was never loaded from a pretrained checkpoint is a random feature
extractor that no training step will ever fix. These checks run before training starts.
"""
import contextlib
import errno
import logging
import os.path as osp
import socket
import zipfile
from typing import Any, Dict, Iterator, List, Optional, Sequence, Set, Tuple
from urllib.error import HTTPError, URLError
from urllib.parse import urlparse
from urllib.request import Request, urlopen

import torch
from mmengine.logging import print_log
from torch import nn

from ..checkpoint import model_state_dict, read_checkpoint, refuse_unfit_lora, strip_prefix
from ..config.pretrained import is_pretrained_init, own_pretrained_argument, self_loading_modules
from ..freezing.fingerprint import tensor_digest
from ..freezing.spec import FreezeSpec, frozen_tensors, resolve_module


@contextlib.contextmanager
def explain_failed_self_loading(model_cfg: Any) -> Iterator[None]:
    """Around building a model from ``model_cfg``: an ``OSError`` raised while modules of it
    load their weights themselves (``pretrained=True`` on a machine without network: timm and
    the Hugging Face Hub retry, then say only that the file is not in the cache) becomes an
    error that names those modules and the ways to build them offline.

    Raises:
        RuntimeError: from the ``OSError``, when ``model_cfg`` has such modules.
    """
    try:
        yield
    except OSError as err:
        loaders = self_loading_modules(model_cfg)
        if not loaders:
            raise
        raise RuntimeError(
            f'mmfrozen: building the model failed while modules that load their pretrained '
            f'weights themselves when built ({"; ".join(loaders)}) were getting them: '
            f'{type(err).__name__}: {str(err)[:300].rstrip(".")}. Where this machine cannot download them, '
            'download the weights on one that can, then either set pretrained=False and '
            "init_cfg=dict(type='Pretrained', checkpoint='<the local file>') on the module, "
            'or copy the Hugging Face cache (HF_HOME) here and set HF_HUB_OFFLINE=1 so that it '
            "is read without a request; a pretrained='<path>' must name an existing file."
        ) from err


class RandomInitFrozenError(RuntimeError):
    """A module would be frozen at its random initialisation."""


#: Attribute of a frozen module that loads its weights itself (its ``pretrained=`` argument).
SELF_LOADED_ATTR = '_mmfrozen_loaded_by'


def pretrained_init_cfgs(model: nn.Module, path: str) -> List[Dict[str, Any]]:
    """The ``init_cfg`` entries of type Pretrained that load the module at ``path``, in the
    order mmengine applies them.

    They are on the module itself or on enclosing modules. mmengine's ``init_weights`` loads a
    module's Pretrained entries after its children's, so the module's own comes first and the
    outermost last, each entry of an ``init_cfg`` list in list order; each loads with
    ``strict=False``, so a later one overwrites the tensors its checkpoint holds and leaves the
    others as they were. An init_cfg loads its whole module, sub-modules included, whatever its
    ``prefix``, which only selects the checkpoint's keys: ``prefix='backbone.'`` on the backbone
    loads a detector checkpoint's backbone into it, ``backbone.layer1`` included.

    Returns:
        One dict per entry: the init_cfg, ``'owner'`` (the path of the module that carries it)
        and ``'field'`` (its config key: ``model.<owner>.init_cfg``, ``.init_cfg.<i>`` for the
        entry ``i`` of a list).
    """
    parts = [p for p in path.split('.') if p]
    found = []
    for depth in range(len(parts), -1, -1):
        owner = '.'.join(parts[:depth])
        init_cfg = getattr(resolve_module(model, owner), 'init_cfg', None)
        listed = isinstance(init_cfg, (list, tuple))
        for index, cfg in enumerate(init_cfg if listed else [init_cfg]):
            if is_pretrained_init(cfg) and cfg.get('checkpoint'):
                key = '.'.join(['model'] + ([owner] if owner else []) + ['init_cfg'] +
                               ([str(index)] if listed else []))
                found.append(dict(cfg, owner=owner, field=key))
    return found


def pretrained_init_cfg(model: nn.Module, path: str) -> Optional[Dict[str, Any]]:
    """The last of :func:`pretrained_init_cfgs` (mmengine applies it last), or None."""
    found = pretrained_init_cfgs(model, path)
    return found[-1] if found else None


def assert_pretrained(model: nn.Module, spec: FreezeSpec, load_from: Optional[str],
                      resume: bool, model_cfg: Optional[Dict[str, Any]] = None) -> str:
    """Return where ``spec``'s module gets its weights from, or raise.

    A module built with ``pretrained=True``/``'<path>'`` (it, or a module enclosing it, in
    ``model_cfg``: the config the model was built from) loads itself; the module is marked so
    that :func:`verify_frozen_weights_loaded` accepts it.

    Raises:
        RandomInitFrozenError: no ``init_cfg`` of type Pretrained and no ``pretrained=``
            argument covers the module and the run neither resumes nor uses ``load_from``.
    """
    cfg = pretrained_init_cfg(model, spec.path)
    if cfg is not None:
        return f"init_cfg Pretrained checkpoint={cfg.get('checkpoint')}"
    argument = own_pretrained_argument(model_cfg, spec.path)
    if argument is not None:
        setattr(resolve_module(model, spec.path), SELF_LOADED_ATTR, argument)
        return f'the weights it loads itself when built ({argument})'
    # Whether a checkpoint is really found and holds the module is checked before training.
    if load_from:
        return f'load_from={load_from} (checked once loaded)'
    if resume:
        return 'resume (checked once loaded)'
    where = f'model.{spec.path}' if spec.path else 'model'

    module = resolve_module(model, spec.path)
    raise RandomInitFrozenError(
        f'mmfrozen: refusing to freeze {spec.path or "the model"!r} ({type(module).__name__}): '
        'nothing loads it from a pretrained checkpoint (no init_cfg=dict(type=\'Pretrained\', '
        'checkpoint=...) and no pretrained=True/\'<path>\' on it or on an enclosing module, no '
        'load_from, no resume), so it would '
        'stay frozen at its random initialisation and the detector would train on random '
        f'features. Set {where}.init_cfg=dict(type=\'Pretrained\', checkpoint=...), '
        'or load_from=..., or, if a frozen random module is really what you want, '
        'allow_random_init=True on the freeze hook.')


def _download_url(checkpoint: str) -> Optional[str]:
    """The http(s) URL mmengine downloads ``checkpoint`` from (``https://``, ``torchvision://``,
    ``modelzoo://``, ``open-mmlab://``, ``mmcls://``); None for a local path or a name that
    mmengine's tables lack (mmengine reports that itself)."""
    from mmengine.runner.checkpoint import (get_deprecated_model_names, get_external_models,
                                            get_mmcls_models, get_torchvision_models)
    scheme, sep, name = checkpoint.partition('://')
    if scheme in ('http', 'https'):
        return checkpoint
    tables = {'torchvision': get_torchvision_models, 'modelzoo': get_torchvision_models,
              'open-mmlab': get_external_models, 'openmmlab': get_external_models,
              'mmcls': get_mmcls_models}
    if not sep or scheme not in tables:
        return None
    if scheme in ('open-mmlab', 'openmmlab'):
        name = get_deprecated_model_names().get(name, name)
    url = tables[scheme]().get(name)
    return url if isinstance(url, str) and url.startswith(('http://', 'https://')) else None


def _broken_cache_file(cached: str) -> Optional[str]:
    """Why the file in torch's download cache cannot be a torch checkpoint, or None.

    Checkpoints written by ``torch.save`` since torch 1.6 are zip archives, whose directory is
    at the end of the file, so an interrupted download or copy is no zip. A file in the legacy
    format (a pickle) cannot be checked without reading it whole: it passes, with a warning.
    """
    if zipfile.is_zipfile(cached):
        return None
    with open(cached, 'rb') as f:
        head = f.read(4)
    if head.startswith(b'PK'):
        return 'a zip archive (the format of torch.save) without its end: cut short'
    if head[:1] == b'\x80':  # a pickle: torch's legacy format
        print_log(f'mmfrozen: {cached} is in torch\'s legacy (pre-1.6) checkpoint format, '
                  'whose completeness cannot be checked without loading it; if loading it '
                  'fails, delete it so that it is downloaded again', logger='current',
                  level=logging.WARNING)
        return None
    return (f'neither a zip archive (the format of torch.save) nor a legacy torch checkpoint '
            f'({osp.getsize(cached):,} bytes starting with {head!r})')


def _definitely_unreachable(err: BaseException) -> bool:
    """True for the failures that no waiting cures: the name does not resolve, the host or
    network is unreachable, the connection is refused. False for a timeout (a slow server, a
    proxy that authenticates first) and anything else."""
    reason = getattr(err, 'reason', err)
    return isinstance(reason, (socket.gaierror, ConnectionRefusedError)) or (
        isinstance(reason, OSError) and reason.errno in (errno.ENETUNREACH, errno.EHOSTUNREACH))


def check_pretrained_reachable(model: nn.Module, spec: FreezeSpec, timeout: float = 5.0) -> None:
    """Refuse, before mmengine tries to download it, an ``init_cfg`` checkpoint of ``spec``'s
    module that is a URL (or ``torchvision://``-like name) neither in torch's download cache
    nor reachable from this machine; mmengine would fail later with a bare ``URLError``. A file
    in the cache that is no torch checkpoint (an interrupted download) is refused too.

    One ``HEAD`` request (proxies honoured) with ``timeout`` seconds; a server that answers at
    all, even with an HTTP error, counts as reachable. Only a definite failure is refused (the
    name does not resolve, the network or host is unreachable, the connection is refused); a
    request that times out or fails otherwise is logged as a warning, and mmengine's download,
    which has no timeout, goes ahead.

    Raises:
        ConnectionError: naming the checkpoint, its URL, the cache file and the fix.
        RuntimeError: the cached file is broken, naming it and telling to delete it.
    """
    for cfg in pretrained_init_cfgs(model, spec.path):
        url = _download_url(str(cfg['checkpoint']))
        if url is None:
            continue
        field = cfg['field']
        source = cfg['checkpoint'] + (f' (downloaded from {url})' if url != cfg['checkpoint']
                                      else '')
        cached = osp.join(torch.hub.get_dir(), 'checkpoints', osp.basename(urlparse(url).path))
        if osp.isfile(cached):
            broken = _broken_cache_file(cached)
            if broken:
                raise RuntimeError(
                    f'mmfrozen: the pretrained checkpoint of the frozen '
                    f'{spec.path or "model"!r}, {field}.checkpoint={source}, is in the download '
                    f'cache as {cached}, but that file is {broken}: loading it would fail. '
                    f'Delete it (rm {cached}) so that it is downloaded again, or set '
                    f'{field}.checkpoint to a good local copy.')
            continue
        try:
            urlopen(Request(url, method='HEAD'), timeout=timeout).close()
        except HTTPError:  # the server answered: the download itself reports what is wrong
            continue
        except (URLError, OSError) as err:
            reason = getattr(err, 'reason', err)
            if not _definitely_unreachable(err):
                print_log(f'mmfrozen: could not confirm within {timeout:g} s that the pretrained '
                          f'checkpoint {field}.checkpoint={source} can be downloaded ({reason}); '
                          'going ahead: mmengine downloads it when the weights are initialised',
                          logger='current', level=logging.WARNING)
                continue
            raise ConnectionError(
                f'mmfrozen: the pretrained checkpoint of the frozen {spec.path or "model"!r}, '
                f'{field}.checkpoint={source}, is not in the download cache ({cached}) and '
                f'cannot be downloaded from this machine: {reason}. Download it on a machine '
                f'with network and set {field}.checkpoint to the local file (or put it at '
                f'{cached}).') from err


def _checkpoint_state_dict(cfg: Dict[str, Any]) -> Dict[str, torch.Tensor]:
    """State dict that mmengine's ``PretrainedInit`` with ``cfg`` loads into its module."""
    ckpt = read_checkpoint(cfg['checkpoint'])
    state = ckpt.get('state_dict', ckpt) if isinstance(ckpt, dict) else ckpt
    prefix = cfg.get('prefix')
    return strip_prefix(state, 'module.' if prefix is None else prefix, keep_others=prefix is None)


def _as_loaded(owner: nn.Module, state: Dict[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
    """``state`` as ``owner.load_state_dict`` loads it: after the load-state-dict pre-hooks of
    ``owner`` and of its sub-modules (in the order the loader calls them) have mapped it, e.g.
    ``ResNetRS`` renaming timm's keys. ``state`` itself is unchanged."""
    mapped = dict(state)
    for name, module in owner.named_modules():
        for hook in module._load_state_dict_pre_hooks.values():
            hook(mapped, f'{name}.' if name else '', {}, False, [], [], [])
    return mapped


def _loads_itself(module: nn.Module) -> bool:
    """True if the module's class overrides ``init_weights`` (own checkpoint conversion,
    e.g. mmdet's Swin with ``convert_weights=True``)."""
    for cls in type(module).__mro__:
        if 'init_weights' in vars(cls):
            return cls.__module__.split('.')[0] not in ('mmengine', 'torch')
    return False


def loaded_tensors(root: nn.Module, spec: FreezeSpec) -> Iterator[Tuple[str, torch.Tensor]]:
    """Frozen tensors whose values must come from a checkpoint: the parameters and the
    floating-point buffers (normalization running statistics). Integer buffers are counters or
    index tables that the module computes itself (``num_batches_tracked``, Swin's
    ``relative_position_index``); torchvision checkpoints lack ``num_batches_tracked``."""
    for name, tensor in frozen_tensors(root, spec):
        if tensor.is_floating_point():
            yield name, tensor


def _count(root: nn.Module, names: Sequence[str]) -> Tuple[int, int]:
    """(parameters, buffers) among ``names``."""
    params = {n for n, _ in root.named_parameters()}
    n_params = sum(n in params for n in names)
    return n_params, len(names) - n_params


def _hold_summary(root: nn.Module, ok: Sequence[str], checked: Sequence[str],
                  source: str) -> str:
    """'N of M frozen parameters hold <source>, and K of L floating-point buffers'."""
    ok_p, ok_b = _count(root, ok)
    all_p, all_b = _count(root, checked)
    buffers = f', and {ok_b} of {all_b} floating-point buffers (norm statistics)' if all_b else ''
    return f'{ok_p} of {all_p} frozen parameters hold {source}{buffers}'


_BUFFER_HINT = ('; {n} of them are buffers such as {name!r}: a checkpoint without the '
                'normalization running statistics leaves the norm layers at their initial '
                'statistics (mean 0, variance 1), which a frozen module keeps for ever')
_OPT_OUT = (' If a frozen module with these values is really what you want, set '
            'allow_random_init=True on the freeze hook.')


def verify_loaded_from_pretrained(model: nn.Module, spec: FreezeSpec,
                                  max_converted: float = 0.25,
                                  names: Optional[Set[str]] = None) -> Optional[str]:
    """Check that the frozen tensors now hold the pretrained checkpoint's tensors.

    mmengine loads ``init_cfg`` checkpoints with ``strict=False``, so a checkpoint whose keys do
    not match (wrong prefix, another architecture, a format conversion that mangles names, no
    running statistics) leaves the module at its random init with only a warning. Call this
    after ``init_weights``. Parameters and floating-point buffers (:func:`loaded_tensors`) are
    checked against the checkpoint as the module loads it, after its own key mapping
    (load-state-dict pre-hooks such as ``ResNetRS``'s for timm's key layout); with several
    init_cfgs around the module (:func:`pretrained_init_cfgs`), each tensor against the last
    one mmengine applies whose checkpoint holds it. A tensor counts
    as loaded if it equals the checkpoint tensor of the same name or,
    for backbones that convert an official checkpoint in their own ``init_weights`` (which
    renames keys), any checkpoint tensor; the checkpoint is cast to the model's dtype first
    (fp16/bf16 checkpoints). Backbones that convert may also reorder a few tensors (Swin's
    patch merging): for them up to ``max_converted`` of the tensors may match no checkpoint
    tensor, with a warning naming them.

    Only the tensors in ``names`` (relative to the module) are checked when it is given.

    Returns a one-line summary, or None when no ``init_cfg`` loads the module.

    Raises:
        RandomInitFrozenError: frozen tensors were not loaded from the checkpoint.
    """
    cfgs = pretrained_init_cfgs(model, spec.path)
    if not cfgs:
        return None
    loads = []  # (checkpoint, key prefix of the module in it, its state), in applied order
    for cfg in cfgs:
        rel = spec.path[len(cfg['owner']):].lstrip('.') if cfg['owner'] else spec.path
        owner = resolve_module(model, cfg['owner'])
        state = _as_loaded(owner, _checkpoint_state_dict(cfg))
        # a frozen-lora run's checkpoint: its updates, which mmengine's init-time loader drops
        # as unexpected keys, are refused as for load_from
        refuse_unfit_lora(state, owner.state_dict(), str(cfg['checkpoint']), 'train')
        loads.append((cfg['checkpoint'], f'{rel}.' if rel else '', state))
    root = resolve_module(model, spec.path)
    by_value: Dict[torch.dtype, Set[Tuple[Tuple[int, ...], str]]] = {}

    def any_value(t: torch.Tensor) -> bool:
        if t.dtype not in by_value:
            by_value[t.dtype] = {(tuple(v.shape), tensor_digest(v, t.dtype))
                                 for _, _, state in loads for v in state.values()
                                 if isinstance(v, torch.Tensor)}
        return (tuple(t.shape), tensor_digest(t)) in by_value[t.dtype]

    unmatched, checked, missing, sources = [], [], set(), {}
    for name, tensor in loaded_tensors(root, spec):
        if names is not None and name not in names:
            continue
        checked.append(name)
        t = tensor.detach().cpu()
        # mmengine skips a key of another shape (strict=False): the last load that fits wins
        winner = next(((source, prefix, state) for source, prefix, state in reversed(loads)
                       if isinstance(state.get(prefix + name), torch.Tensor)
                       and tuple(state[prefix + name].shape) == tuple(t.shape)), None)
        if winner is not None and torch.equal(winner[2][winner[1] + name].to(t.dtype), t):
            sources[name] = winner[0]
            continue
        if winner is None:
            missing.add(name)
        # only a backbone that converts the checkpoint itself may hold it under other names
        if not (_loads_itself(root) and any_value(t)):
            unmatched.append(name)
    source, prefix, state = loads[-1]
    if unmatched and (not _loads_itself(root) or len(unmatched) > max_converted * len(checked)):
        first = unmatched[0]
        looked = next(((s, p, st) for s, p, st in reversed(loads) if p + first in st),
                      loads[-1])
        params = dict(root.named_parameters())
        absent = [n for n in unmatched if n not in params and n in missing]
        buffers = _BUFFER_HINT.format(n=len(absent), name=f'{spec.path}.{absent[0]}') if (
            absent) else ''
        where = (f'looked for key {looked[1] + first!r} among {len(looked[2])} keys such as '
                 f'{list(looked[2])[:3]}' if first in missing else
                 f'the checkpoint\'s {looked[1] + first!r} holds other values')
        raise RandomInitFrozenError(
            f'mmfrozen: {len(unmatched)} of {len(checked)} frozen tensors of {spec.path!r} do '
            f'not hold the pretrained checkpoint {looked[0]} after weight initialisation '
            f'(first: {spec.path}.{first}; {where}){buffers}. They would stay frozen at '
            'their initial values. Fix the checkpoint, its init_cfg prefix or the backbone\'s '
            'conversion option (e.g. convert_weights).' + _OPT_OUT)
    if unmatched:
        print_log(f'mmfrozen: {len(unmatched)} of {len(checked)} frozen tensors of '
                  f'{spec.path!r} differ from every tensor of {source}, as expected where '
                  f'{type(root).__name__}.init_weights converts the checkpoint: {unmatched}',
                  logger='current', level=logging.WARNING)
    ok = [n for n in checked if n not in set(unmatched)]
    used = sorted(set(sources.values())) or [source]
    what = ('the pretrained checkpoint ' + used[0] if len(used) == 1 else
            'the pretrained checkpoints ' + ', '.join(used) + ' (the last applied holding each)')
    return f'mmfrozen: {spec.path}: {_hold_summary(root, ok, checked, what)}'


def checkpoint_digests(checkpoint: Dict[str, Any], like: Dict[str, torch.Tensor],
                       model: Optional[nn.Module] = None
                       ) -> Dict[str, Tuple[Tuple[int, ...], str]]:
    """Shape and digest of a loaded runner checkpoint's model tensors named in ``like``.

    Keys are model-level names, as ``model`` loads them when it is given: after the
    load-state-dict pre-hooks of its modules have mapped the checkpoint's keys (``ResNetRS``
    with timm's layout). Each tensor is digested as cast to the dtype of the model tensor of
    that name in ``like``, which is what loading it into the model gives (a checkpoint saved in
    fp16 or bf16 loads exactly into an fp32 model).
    """
    state = model_state_dict(checkpoint)
    if model is not None:
        state = _as_loaded(model, state)
    out = {}
    for name, value in state.items():
        if name in like and isinstance(value, torch.Tensor):
            out[name] = (tuple(value.shape), tensor_digest(value, like[name].dtype))
    return out


def verify_frozen_weights_loaded(model: nn.Module, spec: FreezeSpec,
                                 loaded: Optional[Dict[str, Tuple[Tuple[int, ...], str]]]) -> str:
    """Check, before training, where every frozen tensor's value came from.

    Parameters and floating-point buffers (:func:`loaded_tensors`) present in the checkpoint
    loaded by ``load_from``/resume (``loaded``: :func:`checkpoint_digests` by model-level name,
    None when no checkpoint was loaded) must equal it; all others must hold the tensors of the
    module's ``init_cfg`` Pretrained checkpoint (:func:`verify_loaded_from_pretrained`).

    Raises:
        RandomInitFrozenError: a frozen tensor came from neither.
    """
    root = resolve_module(model, spec.path)
    prefix = f'{spec.path}.' if spec.path else ''
    params = dict(root.named_parameters())
    rest, checked = set(), []
    for name, tensor in loaded_tensors(root, spec):
        checked.append(name)
        entry = (loaded or {}).get(prefix + name)
        kind = 'parameter' if name in params else 'buffer'
        if entry is None:
            rest.add(name)
        elif entry[0] != tuple(tensor.shape):
            raise RandomInitFrozenError(
                f'mmfrozen: frozen {kind} {prefix + name} has shape {tuple(tensor.shape)} but '
                f'the checkpoint loaded by load_from/resume holds shape {entry[0]}: mmengine '
                'skipped it (strict=False) and the module keeps its initial value, frozen for '
                'good. Use a checkpoint of this architecture (same depth, widths, number of '
                'classes of the frozen part).')
        elif entry[1] != tensor_digest(tensor):
            raise RandomInitFrozenError(
                f'mmfrozen: frozen {kind} {prefix + name} differs from the checkpoint that was '
                'loaded into the model (compared after casting the checkpoint to the model\'s '
                f'{tensor.dtype}): something wrote into it after loading (another hook, or '
                'weight initialisation run again). Check the hooks of this config.')
    from_ckpt = [n for n in checked if n not in rest]
    if not rest:
        return (f'mmfrozen: {spec.path!r}: '
                f'{_hold_summary(root, from_ckpt, checked, "the loaded checkpoint")}')
    msg = verify_loaded_from_pretrained(model, spec, names=rest)
    loaded_by = getattr(root, SELF_LOADED_ATTR, None)
    if msg is None and loaded_by is not None:
        # a module that loads itself when built: no file to compare with (pretrained=True
        # downloads inside the module's own code)
        source = f'the weights the module loaded itself ({loaded_by}; not compared with a file)'
        msg = f'mmfrozen: {spec.path!r}: {_hold_summary(root, sorted(rest), sorted(rest), source)}'
    if msg is None:
        first = sorted(rest)[0]
        _, n_buffers = _count(root, sorted(rest))
        first_buffer = next((n for n in sorted(rest) if n not in params), '')
        buffers = _BUFFER_HINT.format(n=n_buffers, name=prefix + first_buffer) if (
            n_buffers and loaded is not None) else ''  # a checkpoint that lacks them
        raise RandomInitFrozenError(
            f'mmfrozen: {len(rest)} frozen tensors of {spec.path or "the model"!r} (first: '
            f'{prefix + first}) were loaded neither from a checkpoint (load_from/resume: '
            f'{"none was loaded" if loaded is None else "not in it"}) nor from an init_cfg '
            f'Pretrained checkpoint{buffers}: they would stay frozen at their initial values. '
            'Point load_from at a checkpoint that holds them, or set init_cfg on the module.' +
            _OPT_OUT)
    return msg + (f' ({len(from_ckpt)} tensors from the loaded checkpoint)' if from_ckpt else '')
