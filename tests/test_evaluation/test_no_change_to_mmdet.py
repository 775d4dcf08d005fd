"""Importing mmfrozen changes nothing of mmdet's that a config did not ask for: every entry of
every mmdet (and mmengine) registry still names the same object, and each registered class
keeps its attributes. mmfrozen's stand-in for mmdet's LVISMetric is chosen by its own name."""
import json
import subprocess
import sys

from tests.utils import REPO

SNAPSHOT = """
import json
import mmdet.registry
import mmengine.registry
from mmdet.utils import register_all_modules
from mmengine.registry import Registry

register_all_modules(init_default_scope=False)  # every module that registers into mmdet's
registries = {f'{m.__name__}.{name}': reg for m in (mmengine.registry, mmdet.registry)
              for name, reg in vars(m).items() if isinstance(reg, Registry)}
before = {name: dict(reg.module_dict) for name, reg in registries.items()}
attrs = {(name, key): dict(vars(obj)) for name, entries in before.items()
         for key, obj in entries.items() if isinstance(obj, type)}

import mmfrozen  # noqa: E402,F401

changed = [f'{name}[{key!r}]' for name, entries in before.items()
           for key, obj in entries.items() if registries[name].module_dict.get(key) is not obj]
changed += [f'{name}[{key!r}].{attr}' for (name, key), old in attrs.items()
            for attr, value in old.items() if vars(before[name][key]).get(attr) is not value]
print(json.dumps(dict(entries=sum(map(len, before.values())), changed=changed)))
"""


def test_importing_mmfrozen_leaves_every_mmdet_registry_entry_as_it_was():
    proc = subprocess.run([sys.executable, '-c', SNAPSHOT], cwd=REPO, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert report['entries'] > 500  # mmdet's registries were filled before the snapshot
    assert report['changed'] == []
