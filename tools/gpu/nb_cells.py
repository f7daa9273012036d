"""Run chosen code cells of a notebook in one namespace holding a module's names (its private ones too): the
notebook's GPU-only test blocks on a device machine that has torch and Triton but not nbdev.
  PYTHONPATH=$PWD python3 tools/gpu/nb_cells.py nbs/02d_kernels.ipynb marval.kernels c032 c036k"""
import importlib, json, sys, time, traceback

def main(nb_path, module, *cell_ids):
    cells = {c.get('id'): c for c in json.load(open(nb_path))['cells'] if c['cell_type'] == 'code'}
    missing = [c for c in cell_ids if c not in cells]
    if missing: raise SystemExit(f'{nb_path} has no code cells {missing}')
    ns = dict(vars(importlib.import_module(module)), __name__='__nb__')
    try: from fastcore.test import test_fail
    except ImportError:                                   # the device has no fastcore: the same contract, written here
        def test_fail(f, contains=''):
            try: f()
            except Exception as e:
                assert contains in str(e), f'raised {e!r}, which does not contain {contains!r}'; return
            raise AssertionError('did not raise')
    ns['test_fail'] = test_fail
    try: import pytest; ns['pytest'] = pytest             # the notebooks' tests import it in an earlier cell
    except ImportError: pass
    failed = 0
    for cid in cell_ids:
        t0 = time.perf_counter()
        try: exec(compile(''.join(cells[cid]['source']), f'{nb_path}#{cid}', 'exec'), ns); print(f'{cid}: passed', end='')
        except Exception: failed += 1; print(f'{cid}: FAILED'); traceback.print_exc()
        print(f' ({time.perf_counter() - t0:.1f} s)', flush=True)
    sys.exit(1 if failed else 0)

if __name__ == '__main__': main(*sys.argv[1:])
