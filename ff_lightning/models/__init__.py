"""The Lightning modules: FF (ff.py, built from its typed settings in settings.py), the channel-wise
competitive network, their shared layer-wise training loop, and the backprop twins."""
