"""Write ``cupy/_real_api.json``: the names the real CuPy has, for the fake to allow no more.

Run with a real CuPy installed (no GPU needed)::

    /tmp/cupyvenv/bin/python scripts/fake_cupy/dump_api.py
"""

import json
from pathlib import Path

import cupy

api = {
    "version": cupy.__version__,
    "module": sorted(n for n in dir(cupy) if not n.startswith("_")),
    "ndarray": sorted(n for n in dir(cupy.ndarray) if not n.startswith("_") or n == "__dlpack__"),
    "random": sorted(n for n in dir(cupy.random) if not n.startswith("_")),
    "Generator": sorted(n for n in dir(cupy.random.Generator) if not n.startswith("_")),
    "cuda": sorted(n for n in dir(cupy.cuda) if not n.startswith("_")),
    "runtime": sorted(n for n in dir(cupy.cuda.runtime) if not n.startswith("_")),
    "testing": sorted(n for n in dir(cupy.testing) if not n.startswith("_")),
}
out = Path(__file__).with_name("cupy") / "_real_api.json"
out.write_text(json.dumps(api, indent=0) + "\n")
print(f"wrote {out}: CuPy {api['version']}, {len(api['module'])} module names")
