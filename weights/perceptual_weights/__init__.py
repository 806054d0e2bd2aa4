"""Torch-free tools that turn published PyTorch weights into gegl-perceptual model files."""
