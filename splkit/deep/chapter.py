"""Chapter 4 (``notebooks/04_deep_features.ipynb``), one call per section.

Each step of :class:`DeepChapter` does the section's work, records its ``deep.*`` keys in
``results.json``, writes its files where :class:`~splkit.run.rundir.RunDir` says, and returns what the
notebook shows — a table, a figure (the notebook shows it with :func:`splkit.book.plots.show`) or a
Markdown paragraph.  Steps run in the notebook's order; each reuses what the previous ones computed.
With ``deep.finetune: true`` the compression and Grad-CAM steps take the fine-tuning branch
(:func:`splkit.deep.finetune.finetune_dtl`) instead of the PCA.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import plotly.graph_objects as go

from splkit.deep.backbones import build_backbone, resolve_backbone
from splkit.deep.compress import compress_embeddings, variance_table
from splkit.deep.embed import CACHE_DIR, embed_patients, measure_throughput
from splkit.deep.figures import loss_figure, training_scatter, variance_figure
from splkit.deep.finetune import check_finetune, finetune_dtl, finetuned_probability, save_finetuned_model
from splkit.deep.gradcam import DTLClassifier, fit_gradcam_head, gradcam_maps, save_gradcam_model
from splkit.deep.outputs import (
    PCA_MODEL,
    backbone_statement,
    backbone_table,
    record_backbone,
)
from splkit.deep.overlay import frame_panels, overlay_figure
from splkit.run.cache import atomic_dump, atomic_parquet
from splkit.run.engine import Engine
from splkit.run.names import COHORT_LABELS, HELD_OUT
from splkit.run.report import record, write_table
from splkit.run.rundir import RunDir

#: Images below which the embedding pass is too short to time; a separate timed pass is run instead.
MIN_TIMED_IMAGES = 16


@dataclass(frozen=True)
class Selection:
    """What the selection section shows: the LASSO's note (or ``None``), the funnel and the coefficients."""

    note: str | None
    funnel: pd.DataFrame
    coefficients: pd.DataFrame


class DeepChapter:
    """The steps of chapter 4 on one run (``settings`` from :func:`splkit.config.load_profile`).

    ``progress`` shows progress bars (they are off anyway in batch runs, see
    :mod:`splkit.run.progress`); ``cache_dir`` is the embedding cache (``None``: off).
    """

    def __init__(self, settings: Any, progress: bool = True, cache_dir: str | Path | None = CACHE_DIR):
        self.settings = settings
        self.cache_dir = cache_dir
        self.deep = settings.deep
        self.run = RunDir(settings.run_path)
        self.progress = progress
        # deep.finetune: fine-tuning replaces the PCA (the no-GPU warning names the notebook's line)
        self.finetune = check_finetune(settings.deep, stacklevel=3)

    # ------------------------------------------------------------------ backbone, cohort, embeddings
    def resolve_backbone(self) -> tuple[str, pd.DataFrame]:
        """Resolve the backbone and its weights, record ``deep.backbone*``/``weights*``/``fallback*``.

        Returns the paragraph saying which weights were used and the settings table.
        """
        self.spec = resolve_backbone(self.deep, seed=self.settings.seed)
        record_backbone(self.run.root, self.spec)
        return backbone_statement(self.spec), backbone_table(self.spec)

    def load_cohort(self, cohort: Any = None) -> pd.DataFrame:
        """Load the cohort (or take ``cohort``, e.g. a test's); return the crop settings table."""
        if cohort is None:
            from splkit.cohort import load_cohort_for

            cohort = load_cohort_for(self.settings)
        self.cohort = cohort
        self.table = cohort.table
        self.labels = self.table["label"]
        self.train = self.table.index[self.table["cohort"] == "train"]
        self.class_names = {0: "benign", 1: cohort.positive_label}
        deep = self.deep
        rows = {
            "patients": len(self.table),
            "training patients": len(self.train),
            "crop margin (fraction of the box, each side)": deep.crop_margin,
            "network input (pixels)": f"{deep.image_size} x {deep.image_size}",
            "batch size": deep.batch_size,
            "torch threads": self.settings.n_jobs,
        }
        return pd.Series(rows, name="value").astype(str).to_frame()

    def embed(self) -> pd.DataFrame:
        """Embed every lesion (cached per image), write ``features/deep_embeddings.parquet`` and record
        ``deep.images_per_second``; return the embedding summary table."""
        self.backbone = build_backbone(self.spec)
        with Engine.from_settings(self.settings) as engine:  # the profile's compute section
            embeddings = embed_patients(
                self.backbone,
                self.cohort,
                self.deep,
                n_jobs=self.settings.n_jobs,
                cache_dir=self.cache_dir,
                progress=self.progress,
                engine=engine,
            )
        self.embeddings = embeddings
        atomic_parquet(embeddings.table, self.run.deep_embeddings)
        # the embedding pass itself when it computed enough images, else a short timed pass on random crops
        speed = embeddings.images_per_second
        if embeddings.n_computed < MIN_TIMED_IMAGES:
            speed = measure_throughput(
                self.backbone,
                n_images=MIN_TIMED_IMAGES,
                batch_size=self.deep.batch_size,
                n_jobs=self.settings.n_jobs,
                size=self.deep.image_size,
                seed=self.settings.seed,
            )
        self.images_per_second = speed
        record(self.run.root, "deep.images_per_second", round(speed, 2))
        rows = {
            "patients embedded": len(embeddings.table),
            "embedding dimension": embeddings.table.shape[1],
            "from the cache": embeddings.n_cached,
            "computed now": embeddings.n_computed,
            "throughput (images per second, forward pass, this machine)": f"{speed:.1f}",
        }
        return pd.Series(rows, name="value").astype(str).to_frame()

    # ------------------------------------------------------------------ compression (PCA or fine-tuning)
    def compress(self) -> go.Figure:
        """The DTL features: PCA on the training embeddings, or fine-tuning with ``deep.finetune``.

        Writes ``features/dtl_candidates.parquet`` and, for the PCA, ``models/dtl_pca.joblib`` and the
        ``dtl_pca_variance`` table (fine-tuning: the ``dtl_finetune_history`` table); records
        ``deep.finetune``, ``deep.n_components`` (and ``deep.explained_variance`` for the PCA).  Returns
        the variance figure (``dtl_pca_variance``) or the loss figure (``dtl_finetune_loss``).
        """
        run, deep, seed = self.run, self.deep, self.settings.seed
        self.variance = self.compressor = self.network = self.history = None
        if self.finetune:
            self.network, self.history, candidates = finetune_dtl(
                self.backbone, self.cohort, self.train, deep, seed, self.settings.n_jobs, self.progress
            )
            atomic_parquet(candidates, run.dtl_candidates)
            write_table(run.root, "dtl_finetune_history", self.history, index=False)
            record(run.root, "deep.finetune", True)
            record(run.root, "deep.n_components", candidates.shape[1])
            self.candidates = candidates
            return loss_figure(self.history)
        record(run.root, "deep.finetune", False)
        candidates, compressor = compress_embeddings(
            self.embeddings.table, self.train, deep.n_components, random_state=seed
        )
        atomic_parquet(candidates, run.dtl_candidates)
        payload = {"pca": compressor, "backbone": self.spec.to_dict(), "deep": deep.to_dict()}
        atomic_dump(payload, run.model(PCA_MODEL))
        variance = variance_table(compressor)
        write_table(run.root, "dtl_pca_variance", variance, index=False)
        record(run.root, "deep.n_components", compressor.n_components_)
        record(run.root, "deep.explained_variance", round(float(variance["cumulative"].iloc[-1]), 4))
        self.candidates, self.compressor, self.variance = candidates, compressor, variance
        return variance_figure(variance)

    def compression_text(self) -> str:
        """One Markdown paragraph on what the compression kept (or, fine-tuned, how the loss fell)."""
        if self.finetune:
            loss = self.history["training loss"]
            return (
                f"Fine-tuning for {len(self.history)} epochs took the training loss from "
                f"{loss.iloc[0]:.3f} to {loss.iloc[-1]:.3f}; the bottleneck "
                f"gives **{self.candidates.shape[1]} DTL features**. **The training patients' features come "
                "from a network trained on their labels: chapter 5's training-cohort scores are optimistic "
                "in this mode.**"
            )
        cumulative = self.variance["cumulative"]
        return (
            f"The {self.compressor.n_components_} DTL features keep "
            f"**{100 * cumulative.iloc[-1]:.1f} %** of the training cohort's embedding variance; "
            f"the first two keep {100 * cumulative.iloc[1]:.1f} %."
        )

    def scatter_figure(self) -> go.Figure:
        """Training patients on the first two DTL features, by reference standard (``dtl_pca_scatter``)."""
        return training_scatter(self.candidates, self.labels, self.train, self.class_names, self.variance)

    # ------------------------------------------------------------------ selection
    def select(self) -> Selection:
        """The radiomics selection on the training cohort's DTL features (``splkit.selection``).

        Records ``deep.selected``; writes the ``dtl_selection_funnel`` and ``dtl_selected`` tables.
        """
        from splkit.selection import build_selection_pipeline, fit_selection, selection_funnel

        selector = fit_selection(build_selection_pipeline(self.settings), self.candidates, self.table)
        lasso = selector.named_steps["lasso"]
        self.selected = list(lasso.coef_.index)
        record(self.run.root, "deep.selected", self.selected)
        funnel = selection_funnel(selector)
        write_table(self.run.root, "dtl_selection_funnel", funnel, index=False)
        coefficients = lasso.coef_.rename("LASSO coefficient (z-scored DTL feature)").to_frame()
        write_table(self.run.root, "dtl_selected", coefficients)
        return Selection(
            note=f"*Note:* {lasso.note_}." if lasso.note_ else None,
            funnel=funnel.set_index("step").rename(columns={"n_features": "DTL features remaining"}),
            coefficients=coefficients.round(4),
        )

    # ------------------------------------------------------------------ Grad-CAM
    def gradcam_examples(self, per_class: int = 2) -> go.Figure:
        """Save the Grad-CAM model and show it on ``per_class`` held-out patients of each class (validation;
        the cohort column's external patients when there is no validation cohort).

        Writes ``models/dtl_gradcam.joblib`` (the PCA surrogate; fine-tuned: a pointer to
        ``models/dtl_finetuned.pt``, written too).  Returns the ``dtl_gradcam_examples`` figure.
        """
        if self.finetune:
            model = self.network
            self.gradcam_path = save_finetuned_model(self.run.root, self.network, self.deep.to_dict())
        else:
            head = fit_gradcam_head(
                self.candidates,
                self.labels,
                self.train,
                features=self.selected,
                cv_folds=self.settings.models.cv_folds,
                random_state=self.settings.seed,
            )
            baseline = self.deep.get("gradcam_baseline", "training_mean")
            self.gradcam_path = save_gradcam_model(
                self.run.root, self.spec, self.compressor, head, self.deep.to_dict(), baseline=baseline
            )
            model = DTLClassifier(
                self.backbone, self.compressor, head, head.feature_names_, baseline=baseline
            )
        held_out = next((c for c in HELD_OUT if (self.table["cohort"] == c).any()), "train")
        shown = self.table.index[self.table["cohort"] == held_out]
        values = self.labels.loc[shown].to_numpy()
        examples = [p for value in (1, 0) for p in shown[values == value][:per_class]]
        maps = gradcam_maps(self.settings, self.cohort, examples, model=model, progress=self.progress)
        if self.finetune:
            probability = finetuned_probability(self.network, self.cohort, examples, self.deep)
        else:
            features = self.candidates.loc[examples, head.feature_names_]
            probability = pd.Series(head.predict_proba(features)[:, 1], index=examples)
        captions = [
            (
                patient,
                f"{patient}: {self.class_names[int(self.labels[patient])]}, p = {probability[patient]:.2f}"
                + (" (empty map)" if maps[patient].max() == 0 else ""),
            )
            for patient in examples
        ]
        self.gradcam_patients, self.gradcam_panels = examples, frame_panels(self.cohort, maps, captions)
        kind = "network" if self.finetune else "surrogate"
        title = f"Grad-CAM of the DTL {kind} (malignant logit), {COHORT_LABELS[held_out].lower()} examples"
        return overlay_figure(self.gradcam_panels, title=title)

    def gradcam_inside_outside(self) -> pd.DataFrame:
        """Mean Grad-CAM inside and outside the lesion mask for each example patient."""
        pairs = list(zip(self.gradcam_patients, self.gradcam_panels, strict=True))
        inside = {patient: float(panel["heatmap"][panel["mask"] > 0].mean()) for patient, panel in pairs}
        outside = {patient: float(panel["heatmap"][panel["mask"] == 0].mean()) for patient, panel in pairs}
        table = {"mean Grad-CAM inside the mask": inside, "mean Grad-CAM outside the mask": outside}
        return pd.DataFrame(table).round(3)

    # ------------------------------------------------------------------ summary
    def summary(self) -> str:
        """The chapter's summary as Markdown bullets."""
        spec, embeddings, selected = self.spec, self.embeddings, self.selected
        weights = (
            f"ImageNet weights `{spec.weights_file}`" if spec.weights == "imagenet" else "**random weights**"
        )
        fallback = f"; **fallback from {spec.requested}**" if spec.fallback else ""
        plural = "s" if len(selected) != 1 else ""
        if self.finetune:
            compression = (
                f"- Fine-tuned on {len(self.train)} training patients ({len(self.history)} epochs): "
                f"{self.candidates.shape[1]} DTL features from the bottleneck (training-cohort scores "
                "optimistic in this mode).\n"
            )
        else:
            compression = (
                f"- PCA on {len(self.train)} training patients: {self.compressor.n_components_} DTL features "
                f"keeping {100 * self.variance['cumulative'].iloc[-1]:.1f} % of the training variance.\n"
            )
        return (
            f"- Backbone: **{spec.name}** ({weights}){fallback}.\n"
            f"- {len(embeddings.table)} lesions embedded ({spec.embedding_dim} values each), "
            f"{embeddings.n_cached} from the cache; {self.images_per_second:.1f} images per second on this "
            "machine.\n"
            + compression
            + f"- Selection on the training cohort kept **{len(selected)}** DTL feature{plural}: "
            f"{', '.join(selected) or 'none'}.\n"
            f"- Grad-CAM model saved to `{self.gradcam_path.relative_to(self.run.root)}` for the "
            "interpretability chapter."
        )
