"""Plain `nn.Module` networks, built from `(input_shape, num_outputs)` so they fit any data module:
one output per class for classification, one per target for regression. Each declares the
`input_shapes` it is meant for, on which tests/test_nets.py checks it."""
