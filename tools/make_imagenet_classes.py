"""Write data/imagenet_classes.txt: the 1000 ImageNet-1k class names, one per line, in class-index order.

The names come from the installed torchvision package (offline; `torchvision.models._meta._IMAGENET_CATEGORIES`), whose
order is the standard one: index i is the i-th wnid in sorted order (n01440764 = 'tench', ...), which is also the order
of `ImageFolder` / `marval.data.ImageNetFolder` over the ILSVRC-2012 train folder.

Usage: python tools/make_imagenet_classes.py [--out data/imagenet_classes.txt]
"""
import argparse, sys
from pathlib import Path

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--out', default=str(Path(__file__).resolve().parents[1] / 'data' / 'imagenet_classes.txt'))
    args = ap.parse_args(argv)
    from torchvision.models._meta import _IMAGENET_CATEGORIES as names
    names = [str(n).strip() for n in names]
    if len(names) != 1000 or any(not n or '\n' in n for n in names):
        sys.exit(f'unexpected torchvision class list ({len(names)} names)')
    from marval.core import atomic_write_text
    out = atomic_write_text('\n'.join(names) + '\n', args.out)
    print(f'wrote {len(names)} class names to {out}')

if __name__ == '__main__':
    main()
