"""mmfrozen/version.py: which OpenMMLab stacks `import mmfrozen` accepts, refuses and warns about."""
import subprocess
import sys
import warnings

import mmdet
import pytest

from mmfrozen.version import DISTRIBUTIONS, TESTED, check_stack, installed_distributions
from tests.utils import REPO

UPSTREAM = {'upstream': dict(TESTED['upstream'])}
ONEDL = {'onedl': dict(TESTED['onedl'])}


@pytest.mark.parametrize('dists', [UPSTREAM, ONEDL], ids=['upstream', 'onedl'])
def test_both_stacks_as_tested_are_accepted_silently(dists):
    (line, versions), = dists.items()
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        assert check_stack(versions, dists) == line


def test_the_running_stack_is_one_line_and_accepted():
    """The venv the suite runs in (.venv/ or .venv-onedl/) holds one line, whose mmdet is the
    one imported, and `import mmfrozen` accepted it."""
    found = installed_distributions()
    assert len(found) == 1, found
    (line, versions), = found.items()
    assert versions['mmdet'] == mmdet.__version__
    assert set(versions) == set(DISTRIBUTIONS[line])  # mmcv, mmengine, mmdet, mmpretrain
    assert check_stack(versions) == line


def test_source_tree_without_distribution_is_checked_by_version_only():
    assert check_stack({'mmdet': '3.3.0', 'mmcv': '2.1.0', 'mmengine': '0.10.7'}, {}) is None
    with pytest.raises(ImportError, match=r'needs mmcv>=2\.0\.0, but 1\.7\.2 is installed: mmcv '
                                          r'1\.x is the mmcv of mmdet 2\.x'):
        check_stack({'mmcv': '1.7.2'}, {})


@pytest.mark.parametrize('module,old', [('mmdet', '3.0.0'), ('mmdet', '3.1.0rc0'),
                                        ('mmengine', '0.9.1'), ('mmcv', '1.7.2')])
def test_releases_known_not_to_work_are_refused_saying_why(module, old):
    have = dict(TESTED['upstream'], **{module: old})
    with pytest.raises(ImportError) as e:
        check_stack(have, UPSTREAM)
    msg = str(e.value)
    assert f'needs {module}>=' in msg and f'but {old} is installed: ' in msg
    assert 'mmfrozen[upstream]' in msg and 'mmfrozen[onedl]' in msg  # what to install


def test_newer_untested_release_is_accepted_with_a_warning():
    have = dict(TESTED['onedl'], mmdet='3.6.0')
    with pytest.warns(UserWarning, match=r'tested on the onedl stack with .*mmdet 3\.5\.1.*; '
                                         r'mmdet 3\.6\.0 is newer and untested'):
        assert check_stack(have, {'onedl': have}) == 'onedl'
    with warnings.catch_warnings():  # a patch release of a tested minor is not "newer"
        warnings.simplefilter('error')
        check_stack(dict(TESTED['onedl'], mmdet='3.5.9'), ONEDL)


def test_both_lines_installing_one_module_is_refused():
    dists = {'upstream': {'mmengine': '0.10.7'}, 'onedl': dict(TESTED['onedl'])}
    with pytest.raises(ImportError, match=r'both mmengine 0\.10\.7 and onedl-mmengine 0\.10\.12 '
                                          r'are installed.*pip uninstall -y mmengine '
                                          r'onedl-mmengine'):
        check_stack(TESTED['onedl'], dists)


def run_import(prelude: str) -> str:
    code = prelude + '\ntry:\n    import mmfrozen\nexcept ImportError as e:\n    print(e)\n'
    return subprocess.run([sys.executable, '-c', code], cwd=REPO, capture_output=True,
                          text=True, timeout=600).stdout


def test_unsupported_mmdet_version_is_refused_on_import():
    out = run_import("import mmdet; mmdet.__version__ = '3.0.0'")
    assert 'needs mmdet>=3.1.0, but 3.0.0 is installed' in out


def test_missing_stack_names_what_to_install():
    out = run_import("import sys; sys.modules['mmdet'] = None  # as if not installed")
    assert 'runs on MMDetection 3.x, but mmdet is not installed' in out
    assert 'pip install "mmfrozen[upstream]"' in out and 'pip install "mmfrozen[onedl]"' in out
