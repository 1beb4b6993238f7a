"""The Forward-Forward algorithm, free of Lightning: goodness and the losses, threshold schedules,
labels written into the input, negative data, the FF networks, one layer's step and one minibatch of
every layer (ff_step.py, then whole_step.py: the same with Adam written out)."""
