"""The FF model's settings (model=ff_mlp), typed: each one's type, default and allowed values
or range, declared once here. Kept free of torch, so that the command line is checked in a
second, before anything heavy is imported."""

# the layer objectives: Hinton's threshold loss, SymBa on G_pos - G_neg, SymBa on log(G_pos / G_neg)
OBJECTIVES = ("threshold", "symba", "symba_log")
# wrong labels: uniform, or hard (in proportion to the softmax head's belief in them)
NEGATIVES = ("uniform", "hard")
# weights: PyTorch's default, or loeweX/Forward-Forward's
INITS = ("default", "reference")
