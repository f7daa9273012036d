"""Retrain the shipped MNIST classifiers and rewrite data/mnist_classifier.pt, data/mnist_judge.pt and
results/classifiers.json (test accuracies, this command, device, date).

Usage: python tools/train_mnist_classifiers.py [--which both|classifier|judge] [--epochs 4] [--device cpu]
Needs data/mnist.pkl.gz (python tools/fetch_mnist.py). About 5 minutes for both on 2 CPU cores.
"""
from marval.classifier import main

if __name__ == '__main__':
    main()
