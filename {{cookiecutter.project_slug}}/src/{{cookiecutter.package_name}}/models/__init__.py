"""LightningModules: what is optimised and measured; the network itself is injected (see `nets/`)."""
