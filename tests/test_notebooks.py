"Every notebook in nbs/ runs through nbdev's own runner (same #| slow / #| notest rules as nbdev_test), one test each."
import os, pathlib, pytest
from nbdev.config import get_config
from nbdev.test import test_nb as run_nb          # aliased so pytest does not collect it

ROOT = pathlib.Path(__file__).resolve().parents[1]
NBS = sorted(p for p in (ROOT / 'nbs').glob('[!_.]*.ipynb'))
FLAGS = os.environ.get('NB_FLAGS', '').split()    # NB_FLAGS=slow runs the #| slow cells too

@pytest.mark.parametrize('nb', NBS, ids=[p.name for p in NBS])
def test_notebook(nb, monkeypatch):
    monkeypatch.chdir(nb.parent)
    skip = [f for f in str(get_config().tst_flags).split() if f not in FLAGS]
    ok, secs = run_nb(nb, skip_flags=skip, force_flags=FLAGS, basepath=ROOT)
    assert ok, f'{nb.name} failed (traceback above)'
