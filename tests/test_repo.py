"Repository invariants: exported library in sync with the notebooks, papermill parameters intact, layout present."
import json, os, pathlib, subprocess, sys, shutil
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
RUN_NOTEBOOKS = ['04c_train_teacher.ipynb', '04e_sample_teacher.ipynb', '05_distill.ipynb', '06_rl.ipynb', '07_bench.ipynb',
                 '08a_paper_tables.ipynb', '10_interactive_sampler.ipynb']   # papermill run notebooks (size parameter)

def test_layout():
    for p in ['nbs', 'marval', 'data', 'results', 'environment.yml', 'settings.ini', 'README.md', 'pyproject.toml',
              'requirements.txt', '.ci/run']:
        assert (ROOT / p).exists(), p
    ini = (ROOT / 'settings.ini').read_text()
    assert 'allowed_cell_metadata_keys = tags' in ini and 'tst_flags = notest slow' in ini and 'update_pyproject = False' in ini

@pytest.mark.parametrize('name', RUN_NOTEBOOKS)
def test_run_notebooks_have_parameters(name):
    import papermill
    nb = ROOT / 'nbs' / name
    assert nb.exists(), name
    params = papermill.inspect_notebook(str(nb))
    assert 'size' in params and params['size']['default'].strip('\'"') == 'tiny', params

def test_library_matches_notebooks(tmp_path):
    "nbdev_export of the notebooks reproduces marval/ exactly (nobody edited marval/ by hand)."
    dst = tmp_path / 'repo'
    shutil.copytree(ROOT, dst, ignore=shutil.ignore_patterns('.venv', '.git', 'data', 'results', '.cache', '__pycache__'))
    shutil.rmtree(dst / 'marval'); (dst / 'marval').mkdir()
    shutil.copy(ROOT / 'marval' / '__init__.py', dst / 'marval' / '__init__.py')
    exe = pathlib.Path(sys.executable).parent / 'nbdev_export'
    env = {k: v for k, v in os.environ.items() if k != 'IN_TEST'}     # nbdev_export is a no-op under IN_TEST (set by nbdev's test runner)
    subprocess.run([str(exe)], cwd=dst, check=True, capture_output=True, env=env)
    assert (dst / 'marval' / 'mar.py').exists(), 'nbdev_export wrote nothing'
    for f in sorted(p for p in (ROOT / 'marval').glob('*.py') if not p.name.startswith('_')):   # _modidx: nbdev's index
        assert (dst / 'marval' / f.name).exists(), f'{f.name} is not exported by any notebook'
        assert (dst / 'marval' / f.name).read_text() == f.read_text(), f'marval/{f.name} differs from its notebook: run nbdev_export'

def test_unknown_size_is_clear():
    from marval.config import get_preset
    with pytest.raises(ValueError, match='tiny, base, large, huge'): get_preset('xl')
