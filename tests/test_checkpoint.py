"""mmfrozen.checkpoint: Runner checkpoints load on torch>=2.6, anything else stays refused; the
package's own checkpoints fed back into it (a sweep's, a split member's, a half-precision copy of
a frozen run's) load exactly as trained or are refused with the way out."""
import copy
import glob
import os
import os.path as osp
import pickle
import re
import runpy
import zipfile

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.logging import HistoryBuffer
from mmengine.runner import checkpoint as mmengine_checkpoint
from mmengine.runner.checkpoint import _load_checkpoint
from mmengine.utils.dl_utils import load_url

import mmfrozen  # noqa: F401  (installs the loader)
from mmfrozen.checkpoint import (CheckpointMismatchError, model_state_dict, read_checkpoint,
                                 strip_prefix)
from mmfrozen.freezing import FrozenModuleChanged
from mmfrozen.freezing.fingerprint import FINGERPRINTS_KEY
from tests.utils import (FROZEN, REPO, build_runner, tiny_frozen_cfg, tiny_member_config,
                         tiny_sweep_config)


class Evil:
    def __reduce__(self):
        return (os.system, ('echo pwned',))


def _save(obj, path):
    torch.save(obj, path)
    return str(path)


def test_runner_like_checkpoint_loads(tmp_path):
    buf = HistoryBuffer()
    buf.update(1.5)
    ckpt = {'meta': {'seed': np.int64(3), 'epoch': 1}, 'state_dict': {'w': torch.ones(2)},
            'message_hub': {'log_scalars': {'train/loss': buf},
                            'runtime_info': {'arr': np.arange(3.0)}}}
    out = _load_checkpoint(_save(ckpt, tmp_path / 'ok.pth'))
    assert out['message_hub']['log_scalars']['train/loss'].mean() == 1.5
    assert out['meta']['seed'] == 3
    assert out['message_hub']['runtime_info']['arr'].tolist() == [0, 1, 2]


def test_arbitrary_code_is_refused(tmp_path):
    path = _save({'state_dict': {}, 'x': Evil()}, tmp_path / 'evil.pth')
    with pytest.raises(pickle.UnpicklingError, match=r'mmfrozen: .*evil\.pth holds an object of '
                                                     r'type \w+\.system.*add_safe_globals'):
        _load_checkpoint(path)


class Touch:
    """A pickle that creates a file when it is loaded: proof that the loader ran its code."""
    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return (open, (self.path, 'w'))


def test_each_stacks_own_local_loader_is_why_ours_stays_registered(tmp_path):
    """What mmengine's own local loader does on the stack installed here, and ours instead.
    Upstream mmengine 0.10.7 cannot load a Runner's checkpoint on torch >= 2.6; the fork's
    0.10.12 loads it, but loads any file it refuses again with ``weights_only=False``, running
    the pickled code. If a stack ever does both right, this test fails and ours can step aside."""
    from mmfrozen.checkpoint import load_local_checkpoint
    from mmfrozen.version import installed_distributions
    assert mmengine_checkpoint.CheckpointLoader._schemes[''] is load_local_checkpoint
    line = next(iter(installed_distributions()))
    buf = HistoryBuffer()
    buf.update(2.0)
    runner_like = _save({'meta': {'seed': np.int64(1)}, 'message_hub': {'log_scalars': {'l': buf}}},
                        tmp_path / 'runner.pth')
    ran = tmp_path / 'the_pickle_ran'
    evil = _save({'state_dict': {}, 'x': Touch(ran)}, tmp_path / 'touch.pth')
    own = mmengine_checkpoint.load_from_local
    if line == 'upstream':
        with pytest.raises(pickle.UnpicklingError):
            own(runner_like, map_location='cpu')
    else:
        assert own(runner_like, map_location='cpu')['message_hub']['log_scalars']['l'].mean() == 2
        own(evil, map_location='cpu')
        assert ran.exists()  # the fork's fallback ran the pickle
        ran.unlink()
    assert _load_checkpoint(runner_like)['message_hub']['log_scalars']['l'].mean() == 2  # ours
    with pytest.raises(pickle.UnpicklingError, match='mmfrozen: '):
        _load_checkpoint(evil)
    assert not ran.exists()


def test_getattr_is_only_for_history_buffer_statistics(tmp_path):
    """A pickle that reaches another attribute through getattr is refused."""
    class Sneaky:
        def __reduce__(self):
            return (getattr, (HistoryBuffer, '__init__'))
    path = _save({'x': Sneaky()}, tmp_path / 'sneaky.pth')
    with pytest.raises(pickle.UnpicklingError, match="refusing getattr"):
        _load_checkpoint(path)


def test_a_one_cycle_schedulers_state_loads_and_its_class_gives_nothing_else(tmp_path):
    """mmengine's OneCycleLR keeps its annealing function in its state, pickled as
    getattr(OneCycleParamScheduler, '_annealing_cos'): the state loads (a OneCycleLR run can
    be resumed), and getattr on that class reaches nothing else."""
    from mmengine.optim import OptimWrapper
    from mmengine.optim.scheduler.param_scheduler import OneCycleParamScheduler
    from mmengine.registry import PARAM_SCHEDULERS
    wrapper = OptimWrapper(torch.optim.SGD(torch.nn.Linear(2, 2).parameters(), lr=0.1))
    for strategy in ('cos', 'linear'):
        scheduler = PARAM_SCHEDULERS.build(
            dict(type='OneCycleLR', eta_max=0.02, begin=0, end=12, by_epoch=False,
                 anneal_strategy=strategy), default_args=dict(optimizer=wrapper))
        path = _save({'param_schedulers': [scheduler.state_dict()]},
                     tmp_path / f'onecycle_{strategy}.pth')
        state = _load_checkpoint(path)['param_schedulers'][0]
        assert state['total_steps'] == 12
        assert state['anneal_func'] is getattr(OneCycleParamScheduler, f'_annealing_{strategy}')

    class Sneaky:
        def __reduce__(self):
            return (getattr, (OneCycleParamScheduler, '__init__'))
    with pytest.raises(pickle.UnpicklingError, match='refusing getattr'):
        _load_checkpoint(_save({'x': Sneaky()}, tmp_path / 'sneaky.pth'))


def test_numpy1_checkpoint_loads(tmp_path):
    """Checkpoints written under numpy 1.x name numpy.core.multiarray."""
    path = _save({'meta': {'arr': np.arange(3.0), 'seed': np.int64(1)}}, tmp_path / 'np2.pth')
    np1 = tmp_path / 'np1.pth'
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(np1, 'w') as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename.endswith('data.pkl'):
                data = data.replace(b'numpy._core.multiarray', b'numpy.core.multiarray')
            dst.writestr(item, data)
    out = _load_checkpoint(str(np1))
    assert out['meta']['arr'].tolist() == [0.0, 1.0, 2.0]


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match='can not be found'):
        _load_checkpoint(str(tmp_path / 'nope.pth'))


def test_unreadable_files_are_named_with_the_cause(tmp_path):
    """An empty file, a saved error page, a truncated archive: the error names the file."""
    empty = tmp_path / 'empty.pth'
    empty.write_bytes(b'')
    with pytest.raises(RuntimeError, match=r'empty\.pth: it is empty \(0 bytes\)'):
        _load_checkpoint(str(empty))
    page = tmp_path / 'page.pth'
    page.write_bytes(b'<html><body>404 Not Found</body></html>')
    with pytest.raises(RuntimeError, match=r"page\.pth: it is neither a zip archive nor a pickle "
                                           r"\(39 bytes starting with b'<h'\).*Download or save"):
        _load_checkpoint(str(page))
    whole = _save({'state_dict': {'w': torch.ones(1000)}}, tmp_path / 'whole.pth')
    cut = tmp_path / 'cut.pth'
    cut.write_bytes(open(whole, 'rb').read()[:2000])
    with pytest.raises(RuntimeError, match=r'cut\.pth: it is a damaged zip archive'):
        _load_checkpoint(str(cut))
    bad_pickle = tmp_path / 'bad_pickle.pth'
    bad_pickle.write_bytes(b'\x80\x02garbage')
    with pytest.raises(RuntimeError, match=r'bad_pickle\.pth: torch\.load failed: .*truncated, '
                                           'corrupt or not a PyTorch checkpoint'):
        _load_checkpoint(str(bad_pickle))


def test_read_checkpoint_is_the_safe_loader(tmp_path):
    """The package's one way to read a checkpoint: a Runner's loads, anything else is refused
    with the same errors as mmengine's local loader gets from mmfrozen."""
    buf = HistoryBuffer()
    buf.update(2.0)
    path = _save({'meta': {'seed': np.int64(3)}, 'state_dict': {'module.w': torch.ones(2)},
                  'message_hub': {'log_scalars': {'loss': buf}}}, tmp_path / 'ok.pth')
    out = read_checkpoint(path)
    assert out['meta']['seed'] == 3 and out['message_hub']['log_scalars']['loss'].mean() == 2.0
    assert list(model_state_dict(out)) == ['w']
    with pytest.raises(pickle.UnpicklingError, match=r'evil\.pth holds an object of type '
                                                     r'\w+\.system'):
        read_checkpoint(_save({'x': Evil()}, tmp_path / 'evil.pth'))
    with pytest.raises(FileNotFoundError, match='can not be found'):
        read_checkpoint(str(tmp_path / 'nope.pth'))


def test_remote_runner_checkpoint_loads_and_evil_is_refused(tmp_path, monkeypatch):
    """A URL (https://, and open-mmlab:// or torchvision:// which resolve to one) is read like a
    local file: a Runner's checkpoint loads, a pickled payload is refused naming its type."""
    monkeypatch.setenv('TORCH_HOME', str(tmp_path))
    cache = tmp_path / 'hub' / 'checkpoints'  # where mmengine's load_url keeps downloads
    os.makedirs(cache)
    buf = HistoryBuffer()
    buf.update(2.0)
    _save({'meta': {'seed': np.int64(3)}, 'state_dict': {'w': torch.ones(2)},
           'message_hub': {'log_scalars': {'loss': buf}}}, cache / 'run.pth')
    out = read_checkpoint('https://example.invalid/models/run.pth')
    assert out['meta']['seed'] == 3 and out['message_hub']['log_scalars']['loss'].mean() == 2.0
    _save({'state_dict': {}, 'x': Evil()}, cache / 'evil.pth')
    with pytest.raises(pickle.UnpicklingError, match=r'evil\.pth holds an object of type '
                                                     r'\w+\.system'):
        read_checkpoint('https://example.invalid/models/evil.pth')
    assert mmengine_checkpoint.load_url is load_url  # mmengine's own loads are left as they were


def test_strip_prefix_takes_whole_module_paths():
    state = {'module.a': 1, 'b': 2, 'backbone.c': 3, 'backbone_x.d': 4}
    assert strip_prefix(state, 'backbone') == strip_prefix(state, 'backbone.') == {'c': 3}
    assert strip_prefix(state, 'back') == {}  # a module path, not a string prefix
    kept = strip_prefix(state, 'module.', keep_others=True)
    assert list(kept.items()) == [('a', 1), ('b', 2), ('backbone.c', 3), ('backbone_x.d', 4)]
    assert model_state_dict({'state_dict': state}) == kept == model_state_dict(state)


def _log(work_dir) -> str:
    return '\n'.join(open(p).read() for p in glob.glob(osp.join(str(work_dir), '*', '*.log')))


@pytest.fixture(scope='module')
def sweep_checkpoint(tiny_coco, tmp_path_factory):
    """A checkpoint of a sweep whose member ``narrow`` has cfg_options that change its model
    (fc 64 -> 16) and the config file of its members: ``(member config, checkpoint)``."""
    root = tmp_path_factory.mktemp('sweep')
    member = tiny_member_config(tiny_coco, root, FROZEN, 'member', max_iters=1, val=False)
    narrow = {'model.roi_head.bbox_head.fc_out_channels': 16}
    sweep = build_runner(tiny_sweep_config(
        dict(fpn=member, narrow=dict(config=member, cfg_options=narrow)), member))
    sweep.save_checkpoint(str(root), 'sweep.pth', save_optimizer=False,
                          save_param_scheduler=False)
    return member, str(root / 'sweep.pth')


def _member_runner(config, load_from, work_dir):
    cfg = Config.fromfile(config)
    cfg.update(load_from=load_from, work_dir=str(work_dir))
    return build_runner(cfg)


def test_unsplit_sweep_checkpoint_given_to_a_member_is_refused(sweep_checkpoint, tmp_path):
    """``tools/test.py MEMBER_CONFIG SWEEP_CHECKPOINT`` (the split forgotten): refused, naming
    the split tool, where mmengine would test a random neck and heads after a missing-keys
    warning."""
    member, ckpt = sweep_checkpoint
    stem = re.escape(osp.splitext(ckpt)[0])
    with pytest.raises(CheckpointMismatchError,
                       match=rf"(?s)sweep\.pth is the checkpoint of a shared-backbone sweep "
                             rf"\(members \['fpn', 'narrow'\].*FasterRCNN without sweep members.*"
                             rf"python tools/split_sweep_checkpoint\.py {re.escape(ckpt)}\n.*"
                             rf"python tools/test\.py {stem}_fpn\.py {stem}_fpn\.pth"):
        _member_runner(member, ckpt, tmp_path).test()


def test_split_member_loads_only_into_the_model_the_sweep_trained(sweep_checkpoint, tmp_path,
                                                                  capsys):
    """Split, the member ``narrow``'s checkpoint given to its own config file (another model) is
    refused, naming the config the sweep trained it with, instead of loading with size-mismatch
    warnings and six tensors left random; the split wrote that config next to the checkpoint
    and printed the command that tests it, which loads every tensor."""
    member, ckpt = sweep_checkpoint
    tool = runpy.run_path(osp.join(REPO, 'tools', 'split_sweep_checkpoint.py'))
    capsys.readouterr()
    assert tool['main']([ckpt]) == 0
    out = capsys.readouterr().out
    config, split = osp.splitext(ckpt)[0] + '_narrow.py', osp.splitext(ckpt)[0] + '_narrow.pth'
    with pytest.raises(CheckpointMismatchError,
                       match=rf"(?s)sweep_narrow\.pth holds sweep member 'narrow', but this model "
                             r"is not the one the sweep trained for it: 6 tensors differ in shape "
                             r"\(first: roi_head\.bbox_head\.fc_cls\.weight, \(4, 16\) in the "
                             rf"checkpoint, \(4, 64\) in the model\).*cfg_options.*"
                             rf"python tools/test\.py {re.escape(config)} {re.escape(split)}"):
        _member_runner(member, split, tmp_path / 'own_config').test()
    assert f'narrow: python tools/test.py {config} {split}\n' in out
    meta = torch.load(split, weights_only=False)['meta']
    assert meta['sweep_member'] == 'narrow' and meta['sweep_member_config'] == config
    assert Config.fromfile(config).model.roi_head.bbox_head.fc_out_channels == 16
    assert Config.fromstring(meta['cfg'], '.py').model == Config.fromfile(config).model
    # the command the tool printed: every tensor of the member as the sweep holds it
    runner = _member_runner(config, split, tmp_path / 'effective_config')
    assert 'coco/bbox_mAP' in runner.test()
    state = torch.load(split, weights_only=False)['state_dict']
    assert set(state) == set(runner.model.state_dict())
    assert all(torch.equal(v, state[k]) for k, v in runner.model.state_dict().items())
    # another checkpoint of another shape still loads with mmengine's warning (a new num_classes)
    plain = str(tmp_path / 'plain.pth')
    torch.save({'state_dict': {k: v for k, v in state.items() if 'fc_cls' not in k}}, plain)
    _member_runner(member, plain, tmp_path / 'plain').load_checkpoint(plain)


@pytest.fixture(scope='module')
def split_member(sweep_checkpoint, tmp_path_factory):
    """The sweep checkpoint split by the tool's function: ``(config, checkpoint)`` of member
    ``fpn`` (the member's config file as it is: no cfg_options)."""
    from mmfrozen.sweep import split_sweep_checkpoint
    _, ckpt = sweep_checkpoint
    return split_sweep_checkpoint(ckpt, str(tmp_path_factory.mktemp('split')))['fpn']


def test_split_writes_the_member_configs_the_sweep_was_built_with(tiny_coco, tmp_path):
    """The sweep's checkpoints record each member's config as the sweep built it: a member file
    edited (or moved) after training does not change the config the split writes, which loads
    the member's checkpoint. A checkpoint without them (an older mmfrozen) is split from the
    files as they are now, with a warning saying so, or refused naming the files it lacks."""
    from mmfrozen.sweep import split_sweep_checkpoint
    member = tiny_member_config(tiny_coco, tmp_path, FROZEN, 'member', max_iters=1, val=False)
    build_runner(tiny_sweep_config(dict(fpn=member), member)).save_checkpoint(
        str(tmp_path), 'sweep.pth', save_optimizer=False, save_param_scheduler=False)
    trained = Config.fromfile(member)
    edited = copy.deepcopy(trained)
    edited.model.test_cfg.rcnn.score_thr = 0.9
    edited.model.roi_head.bbox_head.fc_out_channels = 8
    edited.dump(member)
    ckpt = str(tmp_path / 'sweep.pth')
    config, split = split_sweep_checkpoint(ckpt, str(tmp_path / 'split'))['fpn']
    assert Config.fromfile(config).model == trained.model
    assert Config.fromstring(torch.load(split, weights_only=False)['meta']['cfg'],
                             '.py').model == trained.model
    _member_runner(config, split, tmp_path / 'member').load_checkpoint(split)  # fits
    with pytest.raises(ValueError, match=rf"sweep_fpn\.pth is already member 'fpn''s split of "
                                         rf"{re.escape(ckpt)}: it needs no split"):
        split_sweep_checkpoint(split, str(tmp_path / 'again'))

    old = torch.load(ckpt, weights_only=False)
    del old['meta']['sweep_member_cfgs']
    torch.save(old, tmp_path / 'old.pth')
    with pytest.warns(UserWarning, match=r"old\.pth does not record its members' configs.*read "
                                         rf"them again from \['{re.escape(member)}'\] as they "
                                         r"are now"):
        config, _ = split_sweep_checkpoint(str(tmp_path / 'old.pth'), str(tmp_path / 'old'))['fpn']
    assert Config.fromfile(config).model.test_cfg.rcnn.score_thr == 0.9  # the file as it is now
    os.rename(member, tmp_path / 'moved.py')
    with pytest.raises(ValueError, match=r"(?s)old\.pth does not record its members' configs.*"
                                         r"member\.py.*not found.*Put the member configs back"):
        split_sweep_checkpoint(str(tmp_path / 'old.pth'), str(tmp_path / 'old2'))


def test_sweep_checkpoint_into_a_sweep_with_other_members(sweep_checkpoint, tmp_path):
    """A sweep's checkpoint as load_from of a sweep whose members are named otherwise: refused
    naming both lists (every neck and head would stay random); a sweep that adds a member to
    those of the checkpoint loads, with a warning naming the member that starts random."""
    member, ckpt = sweep_checkpoint
    other = tiny_sweep_config(dict(a=member, b=member), member)
    other.update(load_from=ckpt, work_dir=str(tmp_path / 'other'))
    with pytest.raises(CheckpointMismatchError,
                       match=r"(?s)sweep\.pth is the checkpoint of a sweep with members "
                             r"\['fpn', 'narrow'\], but this sweep's members are \['a', 'b'\]: "
                             r"none of them is in it"):
        build_runner(other).load_checkpoint(ckpt)
    added = tiny_sweep_config(dict(fpn=member, wide=member), member)
    added.update(load_from=ckpt, work_dir=str(tmp_path / 'added'))
    runner = build_runner(added)
    runner.train_loop  # noqa: B018 (load_from of a training run: train() builds its loop first)
    runner.load_checkpoint(ckpt)
    assert ("sweep.pth holds sweep members ['fpn', 'narrow']; this sweep's members ['wide'] are "
            "not in it and start from their initialisation") in (
                # mmengine names a logger after the config and the second it was built in: a
                # runner built in the same second as `other` writes to other's log
                _log(tmp_path / 'added') + _log(tmp_path / 'other'))
    state = torch.load(ckpt, weights_only=False)['state_dict']
    assert all(torch.equal(v, state[k]) for k, v in runner.model.state_dict().items()
               if k.startswith(('backbone.', 'members.fpn.')))


def test_split_member_fine_tunes_with_another_num_classes(split_member, tmp_path):
    """A split member as load_from of a training run with another number of classes (fine-tuning
    on another dataset): loads as mmengine loads any checkpoint, with a warning naming the
    config the sweep trained the member with; tested or validated, the same model is refused
    (with the way to load it anyway)."""
    config, split = split_member
    cfg = Config.fromfile(config)
    cfg.model.roi_head.bbox_head.num_classes = 2
    cfg.model.backbone.init_cfg = None  # the checkpoint holds the frozen backbone
    cfg.update(load_from=split, work_dir=str(tmp_path / 'fine_tune'))
    build_runner(copy.deepcopy(cfg)).train()
    assert (f"holds sweep member 'fpn', and this model is not the one the sweep trained for it: "
            f"4 tensors differ in shape (first: roi_head.bbox_head.fc_cls.weight") in _log(
                tmp_path / 'fine_tune')
    assert f'train with the config the split wrote ({config})' in _log(tmp_path / 'fine_tune')
    cfg.work_dir = str(tmp_path / 'test')
    with pytest.raises(CheckpointMismatchError,
                       match=r"(?s)4 tensors differ in shape.*python tools/test\.py "
                             rf"{re.escape(config)} {re.escape(split)}\nTo evaluate this model "
                             r"with the tensors that fit anyway, remove the checkpoint's "
                             r"meta\[\"sweep_member\"\]"):
        build_runner(cfg).test()


def test_resuming_from_a_split_member_is_refused(split_member, sweep_checkpoint, tmp_path):
    """A split member holds no optimizer, scheduler or message-hub state: resume is refused
    naming the sweep checkpoint to resume and load_from, where mmengine failed with a bare
    KeyError: 'message_hub'."""
    config, split = split_member
    cfg = Config.fromfile(config)
    cfg.train_cfg.max_iters = 2
    cfg.update(load_from=split, resume=True, work_dir=str(tmp_path))
    with pytest.raises(CheckpointMismatchError,
                       match=rf"(?s)cannot resume from {re.escape(split)}: it holds sweep member "
                             rf"'fpn'.*no optimizer, scheduler or message-hub state.*Resume the "
                             rf"sweep from {re.escape(sweep_checkpoint[1])} .*load_from="):
        build_runner(cfg).train()


def test_refusal_names_the_config_next_to_a_moved_split_member(sweep_checkpoint, tmp_path):
    """Split files moved together (a copied work dir): the refusal names the config next to the
    checkpoint, not the path the split wrote it to; with no config left, where its text is."""
    from mmfrozen.sweep import split_sweep_checkpoint
    member, ckpt = sweep_checkpoint
    config, split = split_sweep_checkpoint(ckpt, str(tmp_path / 'split'), ['narrow'])['narrow']
    os.rename(tmp_path / 'split', tmp_path / 'moved')
    moved = str(tmp_path / 'moved' / osp.basename(split))
    with pytest.raises(CheckpointMismatchError, match=rf"python tools/test\.py "
                       rf"{re.escape(osp.splitext(moved)[0])}\.py {re.escape(moved)}\n"):
        _member_runner(member, moved, tmp_path / 'w').test()
    os.remove(osp.splitext(moved)[0] + '.py')
    with pytest.raises(CheckpointMismatchError,
                       match=r"(?s)the split wrote that config \(not found: neither .* exists; "
                             r"its text is the checkpoint's meta\[\"cfg\"\]"):
        _member_runner(member, moved, tmp_path / 'w2').test()


def _train_frozen(cfg, work, load_from=None):
    cfg = copy.deepcopy(cfg)
    cfg.model.backbone.init_cfg = None  # load_from holds the frozen backbone
    cfg.update(load_from=load_from, work_dir=str(work))
    runner = build_runner(cfg)
    runner.train()
    return runner


def _half_copy(src, dst, dtype_of=lambda key: torch.float16, edit=None):
    ckpt = torch.load(src, weights_only=False)
    ckpt['state_dict'] = {k: v.to(dtype_of(k)) if v.is_floating_point() else v
                          for k, v in ckpt['state_dict'].items()}
    if edit is not None:
        edit(ckpt)
    torch.save(ckpt, dst)
    return str(dst), ckpt['state_dict']


def test_half_precision_copy_of_a_frozen_runs_checkpoint_loads_exactly(tiny_coco, tmp_path):
    """A "slim" copy (weights fp16, norm statistics bf16) of a frozen run's checkpoint as
    load_from: verified against the half-precision digests its fingerprints record, loaded, and
    the log says so. A changed tensor is still refused; an older checkpoint's copy (no half
    digests) is refused with the way out, which works."""
    cfg = tiny_frozen_cfg(tiny_coco, tmp_path, val=False, max_iters=1)
    pretrained = torch.load(tmp_path / 'pretrained.pth')  # BN weights and statistics: not 0/1
    gen = torch.Generator().manual_seed(0)
    pretrained['state_dict'] = {k: v + torch.rand(v.shape, generator=gen) if v.is_floating_point()
                                else v for k, v in pretrained['state_dict'].items()}
    # a statistic float16 cannot hold (its largest value is 65504), bfloat16 can
    pretrained['state_dict']['backbone.layer4.1.bn2.running_var'][0] = 1.0e5
    torch.save(pretrained, tmp_path / 'pretrained.pth')
    full = str(tmp_path / 'work' / 'iter_1.pth')
    build_runner(cfg).train()

    def slim(key):
        return torch.bfloat16 if 'running' in key else torch.float16

    half, state = _half_copy(full, tmp_path / 'slim.pth', slim)
    runner = _train_frozen(cfg, tmp_path / 'from_slim', half)
    assert set(torch.load(full, weights_only=False)['meta'][FINGERPRINTS_KEY]['backbone'][
        'half']) == {'float16', 'bfloat16'}
    for k, v in runner.model.backbone.state_dict().items():
        assert torch.equal(v, state[f'backbone.{k}'].to(v.dtype)), k  # the rounded values
    log = _log(tmp_path / 'from_slim')
    assert ("mmfrozen: the checkpoint is a half-precision (bfloat16, float16) copy: 100 of 120 "
            "frozen tensors of 'backbone' hold exactly the rounding") in log

    # resume continues the run that wrote the checkpoint: a half copy would change its frozen
    # module mid-run, so it is refused with the way out (load_from starts a new run)
    resume_cfg = copy.deepcopy(cfg)
    resume_cfg.train_cfg.max_iters = 2
    resume_cfg.update(resume=True)
    with pytest.raises(FrozenModuleChanged,
                       match=r"(?s)resumed checkpoint is a half-precision \(bfloat16, float16\) "
                             r"copy: 100 of 120 frozen tensors.*Resume from the full-precision "
                             r"checkpoint; a half-precision copy can only start a new run: "
                             r"load_from=<copy> with resume=False"):
        _train_frozen(resume_cfg, tmp_path / 'resumed_slim', half)

    # all in float16: the large variance overflows to inf in the cast; refused, naming it
    fp16, _ = _half_copy(full, tmp_path / 'fp16.pth')
    with pytest.raises(FrozenModuleChanged,
                       match=r"'backbone\.layer4\.1\.bn2\.running_var' of the half-precision "
                             r"\(float16\) copy holds 1 inf/NaN values: float16 holds magnitudes "
                             r"up to 65504.*Make the copy in bfloat16"):
        _train_frozen(cfg, tmp_path / 'from_fp16', fp16)

    def tamper(ckpt):
        ckpt['state_dict']['backbone.layer1.0.conv1.weight'] += 1
    tampered, _ = _half_copy(full, tmp_path / 'tampered.pth', slim, tamper)
    with pytest.raises(FrozenModuleChanged, match=r"'backbone\.layer1\.0\.conv1\.weight' "
                                                  r"changed \(after loading.*edited, converted"):
        _train_frozen(cfg, tmp_path / 'from_tampered', tampered)

    def older(ckpt):  # fingerprints as mmfrozen wrote them before the half digests
        del ckpt['meta'][FINGERPRINTS_KEY]['backbone']['half']
    old, _ = _half_copy(full, tmp_path / 'old.pth', edit=older)
    with pytest.raises(FrozenModuleChanged,
                       match=r"(?s)100 of 120 frozen tensors.*All 100 hold exactly float16 "
                             r"values: this looks like a half-precision copy.*Use the "
                             r"full-precision checkpoint.*del ckpt\['meta'\]"
                             r"\['mmfrozen_fingerprints'\]"):
        _train_frozen(cfg, tmp_path / 'from_old', old)
    ckpt = torch.load(old, weights_only=False)  # the way out the message gives
    del ckpt['meta']['mmfrozen_fingerprints']
    torch.save(ckpt, old)
    _train_frozen(cfg, tmp_path / 'from_old_unverified', old)
