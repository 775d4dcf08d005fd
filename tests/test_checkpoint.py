"""mmfrozen.checkpoint: Runner checkpoints load on torch>=2.6, anything else stays refused."""
import os
import pickle
import zipfile

import numpy as np
import pytest
import torch
from mmengine.logging import HistoryBuffer
from mmengine.runner.checkpoint import _load_checkpoint

import mmfrozen  # noqa: F401  (installs the loader)


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


def test_getattr_is_only_for_history_buffer_statistics(tmp_path):
    """A pickle that reaches another attribute through getattr is refused."""
    class Sneaky:
        def __reduce__(self):
            return (getattr, (HistoryBuffer, '__init__'))
    path = _save({'x': Sneaky()}, tmp_path / 'sneaky.pth')
    with pytest.raises(pickle.UnpicklingError, match="refusing getattr"):
        _load_checkpoint(path)


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
