"""Plain `nn.Module` networks, built from `(input_shape, num_classes)` so they fit any data module."""
