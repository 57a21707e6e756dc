"""The training engine: events, stop token, devices, AMP, schedules, gradual unfreezing,
feature caching, checkpoints with resume, and an integrity report after every run."""

import dataclasses
import math
import os
import time
import traceback
from pathlib import Path

import torch
from torch import nn

from tlgui.core.config import TrainConfig
from tlgui.core.data.data_index import DataError, DataIndex
from tlgui.core.data.datasets import make_loader
from tlgui.core.data.image_cache import DecodedCache
from tlgui.core.data.image_check import open_rgb, usable
from tlgui.core.errors import TlguiError, user_message
from tlgui.core.model.freeze import set_train_mode
from tlgui.core.model.snapshots import snapshot
from tlgui.core.train import checkpoints, distributed
from tlgui.core.train.compute import precision_for, set_deterministic, use_channels_last
from tlgui.core.train.devices import describe, pick_device
from tlgui.core.train.feature_cache import find_cut
from tlgui.core.train.feed import DeviceFeed
from tlgui.core.train.inputs import Inputs, feature_inputs, image_inputs
from tlgui.core.train.integrity import (
    IntegrityReport,
    check_integrity,
    trainable_tensor_names,
    weight_changes,
)
from tlgui.core.train.optim import build_optimizer, build_schedule, lr_factors
from tlgui.core.train.train_events import (
    EpochStats,
    FitResult,
    RunningTotals,
    StopToken,
    TrainListener,
    ValidationStats,
)
from tlgui.core.train.unfreezing import phase_starts, unfreeze_upto
from tlgui.core.validate import check_data


class NonFiniteLoss(TlguiError, RuntimeError):
    pass


class Trainer:
    """Trains ``model`` on ``data`` with ``config`` (checked by the caller, once, with
    ``check_config``); listeners hear every event."""

    def __init__(self, model: nn.Module, data: DataIndex, eval_transform, config: TrainConfig,
                 *, listeners: list[TrainListener] | tuple = (), stop: StopToken | None = None,
                 original: nn.Module | None = None) -> None:
        self.model = model
        self.data = data
        self.eval_transform = eval_transform
        self.config = config
        self.listeners = list(listeners)
        self.stop = stop or StopToken()
        self.original = original
        check_data(data)
        self.ranks = distributed.from_env()  # one process, or one of torchrun's
        self.device = distributed.device_for(self.ranks, pick_device(config.device))
        self.ranks_identical: bool | None = None
        self.integrity: IntegrityReport | None = None
        self.before = None  # the snapshot taken when fit() starts
        self.result = FitResult(history=[])
        self.image_cache: DecodedCache | None = None  # the last phase's, when it used one
        self._changeable: set[str] = set()

    def _emit(self, event: str, *args) -> None:
        for listener in self.listeners:
            getattr(listener, event)(*args)

    def _say(self, text: str) -> None:
        self._emit("on_message", text)

    def prepare(self, state: dict | None = None) -> int:
        """Everything before the first epoch (data, device, precision, the trainable set,
        inputs, optimiser), from a checkpoint's ``state`` when resuming; returns the epoch
        to start at. Needs the process group started (``fit`` does it)."""
        cfg = self.config
        self._prepare_data()
        self.before = snapshot(self.model)
        self.model.to(self.device)
        self.channels_last = cfg.channels_last and use_channels_last(
            self.model, self._one_input(), self._say)
        start = state["epoch"] if state else 0
        self._apply_unfreezing(upto=start)
        self.precision = precision_for(self.device, cfg.amp)
        if self.precision.note:
            self._say(self.precision.note)
        self.scaler = self.precision.scaler()  # one per run: the scale spans the phases
        if state and state.get("scaler"):  # empty when saved with the scaler off
            self.scaler.load_state_dict(state["scaler"])
        if state:
            for name, param in self.model.named_parameters():
                param.requires_grad_(name in state["trainable"])
            self.model.load_state_dict(state["model"])
            self.result.history = [EpochStats(**h) for h in state["history"]]
            self.result.best_epoch = state.get("best_epoch")
        self._setup_phase(phase_starts(self.config), start, state)
        return start

    def fit(self, resume_from: str | Path | None = None) -> FitResult:
        """Run all epochs (or the rest of a checkpointed run); never raises for training
        failures: they end the run cleanly and are reported in ``result.error``."""
        cfg = self.config
        started = False
        restore = set_deterministic(cfg.deterministic, self.device, self._say)
        try:
            distributed.start(self.ranks, self.device)
            original_before = snapshot(self.original) if self.original is not None else None
            state = checkpoints.load(resume_from) if resume_from else None
            start = self.prepare(state)
            if state:
                self._say(f"resumed from {resume_from} at epoch {start + 1}")
            self._emit("on_fit_start", cfg, cfg.epochs, self.batches_per_epoch)
            started = True
            phases = phase_starts(self.config)
            for epoch in range(start, cfg.epochs):
                if epoch in phases and epoch != start:
                    self._apply_unfreezing(upto=epoch)
                    self._setup_phase(phases, epoch, None)
                self._run_epoch(epoch)
                if self.stop.stopped:
                    self.result.stopped = True
                    self._say(f"stopped during epoch {epoch + 1}")
                    break
            self.integrity = check_integrity(self.before, self.model, self._changeable,
                                             original_before, self.original)
            self._say(self.integrity.summary())
            if self.ranks.enabled:
                self.ranks_identical = distributed.ranks_agree(self.model, self.ranks)
                self._say(f"{self.ranks.world} ranks hold "
                          + ("bit-identical models" if self.ranks_identical else
                             "DIFFERENT models: the ranks went out of step"))
            self._emit("on_integrity", self.integrity.as_dict())
        except Exception as exc:  # the run ends cleanly, with the reason shown
            self.result.error = explain(exc)
            if not isinstance(exc, (TlguiError, torch.cuda.OutOfMemoryError, InterruptedError)):
                self._say("".join(traceback.format_exception(exc)).rstrip())
            self._emit("on_exception", exc, self.result.error)
        finally:
            restore()
            self.model.eval()
            if not started:
                self._emit("on_fit_start", cfg, cfg.epochs, 0)
            self._emit("on_fit_end", self.result)
        return self.result

    def _prepare_data(self) -> None:
        known = self.data.bad_files
        self.train_files, bad = usable(self.data.splits["train"], known)
        self.valid_files, bad_valid = usable(self.data.splits.get("valid", []), known)
        bad |= bad_valid
        for path, reason in bad.items():
            self.result.skipped_files[str(path)] = reason
            self._say(f"skipped {path}: {reason}")
        if not self.train_files:
            raise DataError(f"none of the {len(bad)} training images in {self.data.root} can be "
                            "read")

    def _one_input(self) -> torch.Tensor:
        """The first readable training image as the model sees it, on the device."""
        path = self.train_files[0][0]
        return self.eval_transform(open_rgb(path)).to(self.device)

    def _apply_unfreezing(self, upto: int) -> None:
        for step in unfreeze_upto(self.model, self.config, upto):
            self._say(f"epoch {upto + 1}: unfroze {step.what}")
            self._emit("on_unfreeze", upto, str(step.what))

    def _setup_phase(self, phases: list[int], epoch: int, state: dict | None) -> None:
        """Choose cached or full training for the current trainable set, then build the
        optimiser and the schedule for the epochs until the next phase."""
        cfg = self.config
        torch.manual_seed(cfg.seed)
        self._changeable |= trainable_tensor_names(self.model)
        self.split, reason = (None, "caching is off") if cfg.cache == "off" else find_cut(self.model)
        augment = cfg.augment
        if augment == "auto":
            augment = "none" if self.split is not None else "light"
        if self.split is not None and augment != "none":
            self.split, reason = None, f"augmentation '{augment}' makes the inputs vary"
        if self.split is None and cfg.cache == "on":
            self._say(f"features not cached: {reason}")
        self._augment = augment
        setup_start = time.perf_counter()
        inputs = self._inputs()
        self.train_data, self.valid_data = inputs.train, inputs.valid
        self.feed = DeviceFeed(self.device, inputs.augment, self.channels_last)
        self.image_cache = inputs.cache or self.image_cache
        self._pending_seconds = time.perf_counter() - setup_start  # counted in the next epoch
        self.batches_per_epoch = len(self.loader(self.train_data, shuffle=True, epoch=0))
        end = next((p for p in phases if p > epoch), cfg.epochs)
        start = max(p for p in phases if p <= epoch)
        factors = lr_factors(self.model, pretrained_mult=cfg.pretrained_lr_mult,
                             spread=cfg.lr_spread, multipliers=cfg.lr_multipliers)
        self.optimizer = build_optimizer(self.model, cfg.optimizer, cfg.lr, momentum=cfg.momentum,
                                         weight_decay=cfg.weight_decay, factors=factors)
        self.scheduler = build_schedule(self.optimizer, cfg.schedule,
                                        (end - start) * self.batches_per_epoch)
        trained = self.split.head if self.split is not None else self.model
        self.train_net = distributed.wrap(trained, self.ranks, self.device)
        if state:
            self.optimizer.load_state_dict(state["optimizer"])
            self.scheduler.load_state_dict(state["scheduler"])
        trainable = sum(p.numel() for p in self.model.parameters() if p.requires_grad)
        mode = f"cached features at '{self.split.cut}'" if self.split else "full forward passes"
        self._say(f"training {trainable:,} parameters on {describe(self.device)} with {mode} "
                  f"in {self.precision.describe()}")

    def _inputs(self) -> Inputs:
        args = (self.train_files, self.valid_files, self.eval_transform)
        common = dict(config=self.config, device=self.device, ranks=self.ranks, say=self._say,
                      should_stop=lambda: self.stop.stopped)
        if self.split is not None:
            return feature_inputs(self.split, *args, workers=self._workers(),
                                  amp_dtype=self.precision.dtype, channels_last=self.channels_last,
                                  **common)
        return image_inputs(*args, self._augment, **common)

    def _workers(self) -> int:
        """Decoding processes: as set, or (auto) up to 8 when a GPU waits for them."""
        if self.config.workers >= 0:
            return self.config.workers
        return min(8, os.cpu_count() or 1) if self.device.type == "cuda" else 0

    def loader(self, dataset, *, shuffle: bool, epoch: int):
        cfg = self.config
        workers = 0 if self.split is not None else self._workers()  # features: in memory
        sampler = distributed.train_sampler(dataset, self.ranks, cfg.seed) if shuffle else None
        if sampler is not None:
            sampler.set_epoch(epoch)  # the same permutation as seed + epoch in one process
        if not shuffle:
            dataset = distributed.validation_share(dataset, self.ranks)
        return make_loader(dataset, cfg.batch_size, shuffle=shuffle, seed=cfg.seed + epoch,
                           workers=workers, pin_memory=self.device.type == "cuda",
                           sampler=sampler)

    def forward(self, images: torch.Tensor, train: bool = False) -> torch.Tensor:
        net: nn.Module = self.train_net if train else (
            self.split.head if self.split is not None else self.model)
        with self.precision.autocast():
            return net(images)

    def _note_failed(self, dataset, failed: list[int]) -> None:
        samples = getattr(dataset, "samples", None)
        for index in failed:
            path = str(samples[index][0]) if samples is not None else str(index)
            if path not in self.result.skipped_files:
                self.result.skipped_files[path] = "could not be decoded"
                self._say(f"skipped {path}: could not be decoded")

    def _run_epoch(self, epoch: int) -> None:
        self._emit("on_epoch_start", epoch)
        torch.manual_seed(self.config.seed + epoch)
        # kept in host memory: a NaN loss restores it, and the GPU holds no second model
        good_state = {k: v.detach().to("cpu", copy=True) for k, v in self.model.state_dict().items()}
        set_train_mode(self.model)
        loader = self.loader(self.train_data, shuffle=True, epoch=epoch)
        totals = RunningTotals(epoch, self.batches_per_epoch)
        pending = None  # the last step's loss and hits: read once the next step is queued
        for number, (batch, images, labels) in enumerate(self.feed(loader, train=True)):
            if self.stop.stopped:
                break
            self._note_failed(self.train_data, batch.failed)
            if images is None:
                continue
            out = self.forward(images, train=True)
            loss = nn.functional.cross_entropy(out.float(), labels)
            self._step(loss)
            if pending is not None:
                self._record(totals, *pending, good_state)
            pending = (number, loss.detach(), (out.argmax(1) == labels).sum(), len(labels))
        if pending is not None:
            self._record(totals, *pending, good_state)
        seen, correct, loss_sum = totals.seen, totals.correct, totals.loss_sum
        train_seconds = totals.seconds()
        partial = self.stop.stopped
        if self.ranks.enabled and not partial:  # every rank's share counted once
            summed = torch.tensor([seen, correct, loss_sum], dtype=torch.float64)
            seen, correct, loss_sum = distributed.reduce_sum(summed, self.ranks).tolist()
        val = None if partial else self._validate(epoch)
        seconds = totals.seconds() + self._pending_seconds
        self._pending_seconds = 0.0
        stats = EpochStats(
            epoch=epoch, train_loss=loss_sum / max(seen, 1), train_accuracy=correct / max(seen, 1),
            val_loss=val.loss if val else None, val_accuracy=val.accuracy if val else None,
            seconds=seconds, images_per_s=seen / max(train_seconds, 1e-9),
            cached=self.split is not None, lr=self.optimizer.param_groups[-1]["lr"],
            partial=partial)
        if not partial:
            self.result.history.append(stats)
            self._checkpoint(epoch, stats)
        self._emit("on_epoch_end", stats)
        if not partial and any(type(lis).on_weights is not TrainListener.on_weights
                               for lis in self.listeners):
            rows = weight_changes(self.before, self.model, self._changeable)
            self._emit("on_weights", epoch, [dataclasses.asdict(r) for r in rows])

    def _step(self, loss: torch.Tensor) -> None:
        """One optimiser step; the schedule advances only when the step was taken (a loss
        scaler skips steps whose gradients overflowed; reading its scale waits for the GPU,
        which only float16 runs pay)."""
        self.optimizer.zero_grad(set_to_none=True)
        self.scaler.scale(loss).backward()
        self.scaler.step(self.optimizer)
        if self.scaler.is_enabled():
            scale = self.scaler.get_scale()
            self.scaler.update()
            if self.scaler.get_scale() < scale:
                return
        self.scheduler.step()

    def _record(self, totals: RunningTotals, number: int, loss: torch.Tensor,
                hits: torch.Tensor, count: int, good_state: dict) -> None:
        """Count one finished step and announce it; reading ``loss`` waits for that step
        alone (the GPU is already busy with the next one)."""
        loss_value = loss.item()
        if not math.isfinite(loss_value):
            self.model.load_state_dict(good_state)
            raise NonFiniteLoss(
                f"the loss became {loss_value} at epoch {totals.epoch + 1}, batch {number + 1}; "
                "the weights from the start of that epoch were restored. Lower the "
                "learning rate, or turn mixed precision off.")
        self._emit("on_batch_end", totals.add(number, loss_value, int(hits), count))

    @torch.no_grad()
    def _validate(self, epoch: int) -> ValidationStats | None:
        if not len(self.valid_data):
            return None
        self.model.eval()
        classes = len(self.data.classes)
        # summed on the device and read once: no wait for the GPU per batch
        counts = torch.zeros(classes * classes, dtype=torch.long, device=self.device)
        total_loss = torch.zeros((), dtype=torch.float64, device=self.device)
        seen = 0
        loader = self.loader(self.valid_data, shuffle=False, epoch=0)
        for batch, images, labels in self.feed(loader, train=False):
            self._note_failed(self.valid_data, batch.failed)
            if images is None:
                continue
            out = self.forward(images).float()
            total_loss += nn.functional.cross_entropy(out, labels, reduction="sum").double()
            seen += len(labels)
            counts += torch.bincount(labels * classes + out.argmax(1), minlength=classes ** 2)
        confusion, loss_sum = counts.view(classes, classes).cpu(), total_loss.item()
        if self.ranks.enabled:  # each rank validated its share
            packed = torch.cat([confusion.flatten().double(),
                                torch.tensor([loss_sum, seen], dtype=torch.float64)])
            packed = distributed.reduce_sum(packed, self.ranks)
            confusion = packed[:-2].round().long().view(classes, classes)
            loss_sum, seen = packed[-2].item(), int(packed[-1].item())
        totals = confusion.sum(1).clamp(min=1)
        stats = ValidationStats(
            epoch=epoch, loss=loss_sum / max(seen, 1),
            accuracy=float(confusion.diag().sum()) / max(seen, 1),
            per_class_accuracy=(confusion.diag() / totals).tolist(), confusion=confusion.tolist())
        self._emit("on_validation_end", stats)
        return stats

    def _checkpoint(self, epoch: int, stats: EpochStats) -> None:
        is_best = _score(stats) >= max(map(_score, self.result.history))
        if is_best:
            self.result.best_epoch = epoch
        if not self.config.checkpoint_dir or not self.ranks.writes:
            return
        state = {
            "model": self.model.state_dict(), "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict(), "scaler": self.scaler.state_dict(),
            "epoch": epoch + 1, "history": [vars(h) for h in self.result.history],
            "trainable": [n for n, p in self.model.named_parameters() if p.requires_grad],
            "best_epoch": self.result.best_epoch, "config": self.config.as_dict(),
        }
        path = checkpoints.save(self.config.checkpoint_dir, state, best=is_best)
        self._say(f"checkpoint saved: {path}" + (" (best so far)" if is_best else ""))
        self._emit("on_checkpoint", epoch, str(path), is_best)


def _score(stats: EpochStats) -> float:
    """What "best" means: validation accuracy, or lower training loss without validation."""
    return stats.val_accuracy if stats.val_accuracy is not None else -stats.train_loss


def explain(exc: BaseException) -> str:
    """One plain sentence for what ended a run."""
    if isinstance(exc, torch.cuda.OutOfMemoryError):
        torch.cuda.empty_cache()
        return ("the GPU ran out of memory. Use a smaller batch size, turn on mixed precision "
                "(AMP), freeze more layers, or cache features.")
    if isinstance(exc, InterruptedError):
        return str(exc)
    return user_message(exc)


