import time

import lightning.pytorch as L
import pytest

from ff_lightning.run.builders import build, build_model
from ff_lightning.run.callbacks import EpochSummary
from tests.conftest import compose_cfg, tiny_overrides

SLEEP = 0.6


class SlowValidation(L.Callback):
    """A validation pass that takes at least SLEEP seconds."""

    def on_validation_epoch_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        time.sleep(SLEEP)


@pytest.mark.slow
def test_an_epochs_training_time_leaves_its_validation_out(tmp_path):
    cfg = compose_cfg(tiny_overrides(), tmp_path)
    datamodule = build(cfg.dataset)
    datamodule.prepare_splits()
    model = build_model(cfg, datamodule)
    summary = EpochSummary()
    trainer = L.Trainer(
        max_epochs=2,
        accelerator="cpu",
        callbacks=[summary, SlowValidation()],
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        num_sanity_val_steps=0,
    )
    started = time.perf_counter()
    trainer.fit(model, datamodule=datamodule)
    wall = time.perf_counter() - started
    # each validation pass slept SLEEP seconds: none of that is training time
    assert len(summary.train_seconds) == 2
    assert all(t < wall - 2 * SLEEP for t in summary.train_seconds), (summary.train_seconds, wall)
    assert len(summary.validation_seconds) == 2
    assert all(v >= SLEEP for v in summary.validation_seconds)
    # the two epochs' training and validation parts fit into the fit's wall time without overlap
    assert sum(summary.train_seconds) + sum(summary.validation_seconds) <= wall
