"""From an experiment to a deployed policy: :class:`CoarsePolicy`, a scikit-learn estimator.

``fit(X, T, Y)`` estimates every individual's outcome under every experimental arm (Stage I,
:mod:`coarse_mip.stage1`), prices it on the candidate treatments, and chooses the menu with
:func:`coarse_mip.solve` (Stage II). ``predict`` gives new individuals their best offered
treatment; ``score`` estimates, by doubly robust AIPW on held-out experiment data, what the
policy is worth against giving everyone the control or the best single treatment.

Profit of a treatment (DESIGN §3.2): numeric doses use the discount value model of
:func:`coarse_mip.stage1.profit_matrix`, ``outcome * (margin - dose) - cost``; labelled
treatments ``margin * outcome - treatment_cost[label]``; both incremental over the control.
"""

from __future__ import annotations

import logging
import numbers
from collections.abc import Mapping
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from . import rows
from ._progress import counter
from ._validation import as_frame, check_int, check_K, check_weights
from ._version import __version__
from .api import solve
from .constraints import Constraints
from .evaluate import PolicyValue, dr_policy_value
from .robust import center_scenarios, menu_stability, scenario_shares, stack_scenarios
from .stage1 import ArmOutcomeEstimator, profit_matrix
from .stage1.assign import RULES, compare_assignments, fit_rule
from .stage1.dml import DoseDMLEstimator
from .stage1.dose import DoseResponseEstimator
from .stage1.estimate import encode
from .stage1.logit import LogitDoseEstimator
from .stage1.profit import INTERPOLATIONS
from .stage1.select import (
    STACK,
    Selection,
    StackedEstimator,
    choose_interpolation,
    folds,
    interpolation_table,
    select_estimator,
)

__all__ = ["CoarsePolicy", "PolicyScore", "ESTIMATORS"]

logger = logging.getLogger(__name__)

#: Stage I estimators: chosen by the data ("auto"), per-arm DRLearner, per-arm causal forest, one pooled
#: model monotone in the dose, one pooled two-part model, LinearDML on the featurized dose, a two-part
#: model logistic in the dose with covariate-varying coefficients.
ESTIMATORS = ("auto", "dr", "causal_forest", "dose", "two_part", "dml", "logit")
#: Larger experiments choose the estimator on a seeded sample of this many individuals.
SELECTION_ROWS = 200_000
_PER_ARM = ("dr", "causal_forest")


class PolicyScore(NamedTuple):
    """Doubly robust evaluation on held-out experiment data (mean profit per individual).

    ``lift``: the policy minus giving everyone the control; ``vs_single``: minus giving
    everyone the best single treatment (``single``, the K = 1 menu); each a
    :class:`~coarse_mip.evaluate.PolicyValue` (value, std_err, 95 % CI). ``mix``: share of the
    individuals given each treatment; ``evaluated_as``: the experimental arm each offered
    treatment was evaluated at (the nearest one, for doses between the arms).
    """

    lift: PolicyValue
    vs_single: PolicyValue
    single: object
    mix: dict
    evaluated_as: dict
    n: int


@dataclass(frozen=True)
class _Arms:
    """The experimental arms: values (control first), whether they are doses."""

    values: tuple
    dose: bool

    def index(self, T, unknown: int | None = None) -> np.ndarray:
        """Arm index of each treatment; one not among the arms is ``unknown`` (None: an error)."""
        lookup = {v: k for k, v in enumerate(self.values)}
        T = _doses(T) if self.dose else np.asarray(T)
        if unknown is not None:
            return np.fromiter((lookup.get(_key(v, self.dose), unknown) for v in T), dtype=np.intp, count=len(T))
        try:
            return np.fromiter((lookup[_key(v, self.dose)] for v in T), dtype=np.intp, count=len(T))
        except KeyError as exc:
            raise ValueError(f"treatment {exc.args[0]!r} was not an arm of the fitted experiment "
                             f"(arms: {list(self.values)})") from None


def _key(value, dose: bool):
    return float(value) if dose else value


def _doses(T) -> np.ndarray:
    """Numeric doses as float64; float32 data (Stata files) at their shortest decimal (0.09456,
    not 0.09455999732017517), so they print and match as written."""
    T = np.asarray(T)
    if T.dtype == np.float32:
        values, inverse = np.unique(T, return_inverse=True)
        return np.array([float(str(v)) for v in values])[inverse.ravel()]
    return T.astype(np.float64)


class CoarsePolicy(BaseEstimator):
    """Choose K treatments from a randomized experiment and assign new individuals.

    Parameters
    ----------
    K : int or sequence of int, default=5
        Treatments to offer; a sequence (e.g. ``range(1, 11)``) fits the profit curve
        (``curve_``, ``solutions_``) and keeps the largest K's menu (see :meth:`select`).
    candidates : array-like, optional
        Treatments to choose from: for numeric doses a grid from the control (0) to the largest
        arm, possibly finer than the arms (default: the arms); for labels, a subset of them.
    control : value, optional
        The control arm: default 0 for numeric doses; required for labels.
    margin : float, default=0.35
        Value of one unit of outcome: gross margin on sales (doses), value per person who
        responds, margin on spend (labels).
    treatment_cost : float or {treatment: cost}, optional
        Cost per individual of giving a treatment (its own cost for labels, e.g. an e-mail).
    estimator : {"auto", "dr", "causal_forest", "dose", "two_part", "dml", "logit"}, default="auto"
        Stage I: EconML's DRLearner or CausalForestDML per arm (cross-fitted nuisances,
        :class:`~coarse_mip.stage1.ArmOutcomeEstimator`); one pooled model monotone in the
        dose (``"dose"``, :class:`~coarse_mip.stage1.dose.DoseResponseEstimator`, numeric doses;
        for many arms, some rare); the pooled two-part model ``P(Y != 0) E[Y | Y != 0]``
        (``"two_part"``, zero-inflated outcomes such as sales or spend; doses or labels); EconML's
        LinearDML on the dose featurized as (d, d²) (``"dml"``,
        :class:`~coarse_mip.stage1.dml.DoseDMLEstimator`); a two-part model whose participation
        is logistic in the dose with intercept and slope varying with the covariates (splines;
        ``"logit"``, :class:`~coarse_mip.stage1.logit.LogitDoseEstimator`, doses only).
        ``"auto"`` fits every applicable one (not the slow causal forest) on ``cv`` folds,
        scores each, and their convex combination best fitting the doubly robust scores (a
        super learner, ``"stack"``), by cross-fitted DR loss on incremental profit at the arms,
        and keeps, among those within one standard error of the smallest (each scored on its
        arm predictions as they are and smoothed by the quadratic through them), the one whose
        plug-in policy has the highest cross-fitted DR value
        (:func:`~coarse_mip.stage1.select.select_estimator`; ``selection_``).
    interpolation : {"auto", "quadratic", "pchip", "linear"}, default="auto"
        Demand between the arms for numeric doses (:func:`~coarse_mip.stage1.profit_matrix`).
        "auto" with ``estimator="auto"`` and candidates between the arms: each interior arm is
        left out, interpolated from the others by every method, and scored against its DR
        scores (:func:`~coarse_mip.stage1.select.interpolation_table`,
        ``interpolation_table_``); "pchip" (through the arm estimates, smooth between them)
        unless another method does better by more than one standard error. With every
        candidate at an arm: "pchip" (the arm estimates as they are). "auto" with a named estimator:
        "quadratic" (it averages per-arm noise) for the per-arm estimators with 3 arms or
        more, "linear" for the pooled models, whose curves are already smooth and may jump
        between the control and the smallest dose (Thornton: attendance 0.37 at no voucher,
        0.65 at 10 cents), where a quadratic would smear it.
    menu_from : {"in_sample", "out_of_fold"}, default="in_sample"
        Profits the menu is chosen on: the final Stage I fit's predictions for the training
        individuals, or the cross-fitted ones of ``estimator="auto"`` (each individual
        predicted by models that never saw them; ``profits_oof_``).
    cv : int, default=3
        Folds of ``estimator="auto"``.
    calibrate : bool, default=True
        With ``estimator="auto"``: shift every arm's estimated outcome towards the arm's doubly
        robust (AIPW) mean over the training individuals (``arm_shift_``; the gap shrunk by its
        standard error, positive-part James-Stein).
        Pooled models shrink the effect of the dose towards zero; the shift removes that bias
        of the population curve, which decides the best single treatment, without touching
        who gains more than whom.
    scenarios : int, default=0
        B > 0: a robust menu. Stage I (the chosen estimator, its calibration shift kept) is
        refitted under B seeded bootstrap weightings of the training individuals (multinomial
        counts as sample weights, so cross-fitting folds never share a copied row); the B
        profit matrices are centred on the menu's profits (their mean is the point estimate,
        their spread the bootstrap's), the menu maximizes the expected estimated profit over
        them (their rows stacked with weights 1/B), and ``stability_`` reports how the B
        scenarios' own menus agree. Not with ``constraints``.
    assignment : {"auto", "plug_in", "classifier", "tree"}, default="auto"
        How :meth:`predict` assigns individuals to the menu of the largest K: the offered
        treatment of highest estimated profit (``"plug_in"``), or a rule learned on the doubly
        robust rewards of the menu's treatments (:mod:`~coarse_mip.stage1.assign`:
        cost-sensitive boosting, or a depth-3 policy tree). ``"auto"``: the learned rule whose
        cross-fitted DR value beats the plug-in rule's by more than one standard error of
        their difference, else the plug-in; learned rules need ``estimator="auto"`` on at most
        ``SELECTION_ROWS`` individuals (their out-of-fold profits and DR scores).
    constraints : Constraints, optional
        Side constraints of the menu choice (on the training individuals).
    method : str, default="exact"
        Stage II engine (:func:`coarse_mip.solve`).
    time_limit : float, optional
        Seconds per solve.
    random_state : int, default=0
        Seed of Stage I and Stage II.
    progress : bool, default=True
        Progress bars on stderr (only when it is a terminal).

    Attributes
    ----------
    arms_ : tuple
        Experimental arms, control first.
    candidates_ : tuple
        The treatments the menu was chosen from (profit matrix columns).
    estimator_ : fitted Stage I estimator
    estimator_name_, interpolation_ : str
        The Stage I estimator (``"stack"`` for the combination) and demand interpolation used
        (chosen by the data with "auto").
    interpolation_table_ : DataFrame or None
        The left-out-arm DR loss of every interpolation ("auto" with ``estimator="auto"`` and
        candidates between the arms).
    stack_weights_ : dict or None
        ``estimator_name_ == "stack"``: each member's weight.
    selection_ : Selection or None
        ``estimator="auto"``: every candidate's DR loss, its standard error against the best,
        and its plug-in policy value.
    profits_ : DataFrame of shape (n, m)
        Estimated incremental profit of the training individuals.
    profits_oof_ : DataFrame of shape (n, m) or None
        ``estimator="auto"`` on at most ``SELECTION_ROWS`` individuals: their cross-fitted
        profits.
    arm_shift_ : ndarray of shape (n_arms,)
        Added to the estimated outcome at each arm (zeros unless calibrated).
    assignment_ : str
        The rule :meth:`predict` uses for the largest K's menu.
    assignment_table_ : DataFrame or None
        Each rule's cross-fitted DR value per individual and the standard error of its
        difference to the plug-in rule (the largest K; ``value`` of plug-in minus tree is the
        tree's loss against free assignment by estimated profit).
    stability_ : dict or None
        With ``scenarios``, for the largest K: ``frequency`` ({treatment: share of the
        scenarios' own menus holding it}), ``jaccard`` (their mean pairwise Jaccard
        similarity), ``shares`` (the chosen menu's share of each scenario's full
        personalization) and ``plain_shares`` (the same for the menu chosen on ``profits_``).
    optimism_ : float or None
        With ``profits_oof_``: the menu's in-sample estimated share of full personalization
        minus its out-of-fold one (how much the in-sample fit flatters the menu).
    solution_ : Solution
        The chosen menu's certificate.
    menu_ : tuple
        The treatments offered.
    curve_ : DataFrame or None
        One row per K when ``K`` is a sequence.
    solutions_ : dict
        K -> Solution.

    Examples
    --------
    >>> from coarse_mip.stage1 import simulate_promotions
    >>> exp = simulate_promotions(3000, seed=0)
    >>> pol = CoarsePolicy(K=2, random_state=0, progress=False).fit(exp.X, exp.arms[exp.T], exp.sales)
    >>> len(pol.menu_) <= 2 and pol.predict(exp.X[:5]).shape == (5,)
    True
    """

    def __init__(self, K=5, *, candidates=None, control=None, margin: float = 0.35, treatment_cost=None,
                 estimator: str = "auto", interpolation: str = "auto", menu_from: str = "in_sample", cv: int = 3,
                 calibrate: bool = True, scenarios: int = 0, assignment: str = "auto",
                 constraints: Constraints | None = None,
                 method: str = "exact",
                 time_limit: float | None = None, random_state: int = 0, progress: bool = True):
        self.K = K
        self.candidates = candidates
        self.control = control
        self.margin = margin
        self.treatment_cost = treatment_cost
        self.estimator = estimator
        self.interpolation = interpolation
        self.menu_from = menu_from
        self.cv = cv
        self.calibrate = calibrate
        self.scenarios = scenarios
        self.assignment = assignment
        self.constraints = constraints
        self.method = method
        self.time_limit = time_limit
        self.random_state = random_state
        self.progress = progress

    # -- fitting ---------------------------------------------------------------------------
    def fit(self, X, T, Y, sample_weight=None, groups=None) -> "CoarsePolicy":
        """Fit Stage I on (X, T, Y), price it on the candidates and choose the menu.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n, p)
            Covariates known when the treatment is chosen.
        T : array-like of shape (n,)
            Treatment received: numeric doses or labels.
        Y : array-like of shape (n,)
            Outcome.
        sample_weight : array-like of shape (n,), optional
        groups : array-like of shape (n,), optional
            Clusters (e.g. villages) that cross-fitting folds keep whole.

        Returns
        -------
        self
        """
        Ks = self._check_params()
        sw = None if sample_weight is None else check_weights(sample_weight, len(as_frame(X)), "sample_weight")
        with counter(desc="coarse-mip fit", total=1 + len(Ks), unit=" steps", enabled=self.progress) as bar:
            bar.set_postfix_str("Stage I")
            self.estimate(X, T, Y, sample_weight=sample_weight, groups=groups)
            bar.update(1)
            self.solutions_ = {}
            if self.menu_from == "out_of_fold" and self.profits_oof_ is None:
                raise ValueError("menu_from='out_of_fold' needs estimator='auto' on at most "
                                 f"{SELECTION_ROWS} individuals (the cross-fitted profits)")
            menu_profits = self.profits_oof_ if self.menu_from == "out_of_fold" else self.profits_
            menu_weights, scenarios = sw, None
            if self.scenarios:
                bar.set_postfix_str(f"{self.scenarios} Stage I scenarios")
                scenarios = center_scenarios(self._scenarios(X, T, Y, sw, groups), menu_profits.to_numpy())
                stacked, menu_weights = stack_scenarios(scenarios, sw)
                menu_profits = pd.DataFrame(stacked, columns=list(self.candidates_))
            for K in Ks:
                bar.set_postfix_str(f"menu for K={K}")
                self.solutions_[K] = solve(menu_profits, K, self.method, weights=menu_weights,
                                           constraints=self.constraints, time_limit=self.time_limit,
                                           seed=self.random_state)
                bar.update(1)
        self.curve_ = _curve(self.solutions_, menu_profits, menu_weights) if len(Ks) > 1 else None
        self.select(max(Ks))
        self.stability_ = None if scenarios is None else self._stability(scenarios, max(Ks), sw)
        self._learn_assignment(X, sw, groups)
        self.optimism_ = None if self.profits_oof_ is None else _optimism(
            self.profits_, self.profits_oof_, self._menu_cols, sw)
        logger.info("CoarsePolicy: menu %s, status %s, gap %.2e", self.menu_, self.solution_.status,
                    self.solution_.gap)
        return self

    def estimate(self, X, T, Y, sample_weight=None, groups=None) -> "CoarsePolicy":
        """Stage I only: fit the outcome model and price the training individuals on the
        candidates (``estimator_``, ``arms_``, ``candidates_``, ``profits_``); :meth:`fit` then
        chooses the menu. Same parameters as :meth:`fit`; returns self."""
        self._check_params()
        frame = as_frame(X)
        n = len(frame)
        self.treatment_name_ = getattr(T, "name", None)
        self.outcome_name_ = getattr(Y, "name", None)
        T = np.asarray(T)
        Y = np.asarray(Y, dtype=float)
        if T.shape != (n,) or Y.shape != (n,):
            raise ValueError(f"X, T and Y must have the same number of rows, got {n}, {T.shape} and {Y.shape}")
        if not np.isfinite(Y).all():
            raise ValueError("Y contains NaN or inf")
        sw = None if sample_weight is None else check_weights(sample_weight, n, "sample_weight")
        self._arms = self._find_arms(T)
        self.arms_ = self._arms.values
        self.candidates_ = self._find_candidates()
        t = self._arms.index(T)
        self.selection_, self.profits_oof_ = None, None
        names = self._auto_candidates(t, Y) if self.estimator == "auto" else [self.estimator]
        if len(names) > 1:
            self.selection_ = self._select(names, frame, t, Y, sw, groups)
            self.estimator_name_ = _choose(self.selection_.table)
        else:
            self.estimator_name_ = names[0]
        self.stack_weights_ = self.selection_.weights if self.estimator_name_ == STACK else None
        self.estimator_ = self._final(self.estimator_name_).fit(frame, t, Y, sample_weight=sw, groups=groups,
                                                                **self._fit_extra(self.estimator_name_))
        self.feature_names_in_ = self.estimator_.feature_names_in_
        self.n_features_in_ = len(self.feature_names_in_)
        self.arm_shift_ = np.zeros(len(self.arms_))
        if self.selection_ is not None and self.calibrate:
            self.arm_shift_ = self._arm_shift(frame, sw)
        self.interpolation_, self.interpolation_table_ = self._choose_interpolation(sw)
        self.profits_ = self.predict_profit(frame)
        if self.selection_ is not None and self.selection_.n == n:
            oof = self._price(self.selection_.out_of_fold[self.estimator_name_] + self.arm_shift_, self.candidates_,
                              self.interpolation_)
            self.profits_oof_ = pd.DataFrame(oof - oof[:, :1], columns=list(self.candidates_))
        return self

    def select(self, K: int) -> "CoarsePolicy":
        """Offer the menu fitted for ``K`` (one of the fitted Ks); returns self."""
        check_is_fitted(self, "solutions_")
        if K not in self.solutions_:
            raise ValueError(f"K={K} was not fitted; fitted: {sorted(self.solutions_)}")
        self.solution_ = self.solutions_[K]
        if self.solution_.status in ("infeasible", "no_solution"):
            raise ValueError(f"no menu for K={K}: {self.solution_.stats.get('reason')}")
        self.menu_ = tuple(self.candidates_[t] for t in self.solution_.treatments)
        self._menu_cols = np.asarray(self.solution_.treatments)
        return self

    # -- using it ---------------------------------------------------------------------------
    def predict_profit(self, X) -> pd.DataFrame:
        """Estimated incremental profit of every candidate for each individual, shape (n, m).

        ``X`` may be a Dask DataFrame: the result is one too, computed partition by partition."""
        check_is_fitted(self, "estimator_")
        if _is_dask(X):
            meta = pd.DataFrame({c: pd.Series(dtype=float) for c in self.candidates_})
            return X.map_partitions(_profit_part, rows.as_delayed(self), meta=meta)
        levels = self._levels(X, self.candidates_)
        return pd.DataFrame(levels - levels[:, :1], columns=list(self.candidates_))

    def predict_outcome(self, X) -> np.ndarray:
        """Estimated expected outcome of each individual under every experimental arm (``arms_``), (n, n_arms)."""
        check_is_fitted(self, "estimator_")
        return self.estimator_.predict(X) + self.arm_shift_

    def predict(self, X) -> np.ndarray:
        """The offered treatment for each individual: the menu's best by estimated profit, (n,).

        ``X`` may be a Dask DataFrame: the result is a Dask Series, partition by partition."""
        check_is_fitted(self, "menu_")
        if _is_dask(X):
            dtype = object if not self._arms.dose else float
            return X.map_partitions(_predict_part, rows.as_delayed(self), dtype, meta=pd.Series(dtype=dtype))
        menu = np.asarray(self.menu_, dtype=object if not self._arms.dose else float)
        if self._rule is not None and self._rule[0] == tuple(self._menu_cols):
            return menu[self._rule[1].predict(encode(self.estimator_, X))]
        P = self.predict_profit(X).to_numpy()[:, self._menu_cols]
        return menu[np.argmax(P, axis=1)]

    def score(self, X, T, Y, level: float = 0.95) -> PolicyScore:
        """Doubly robust (AIPW) value of the policy on held-out experiment data.

        Propensities are the arms' shares in this data (the design's, for a randomized
        experiment); the outcome model is the fitted Stage I, which must not have seen these
        individuals. Offered doses between two arms are evaluated at the nearest arm. An
        individual who received a treatment the fit never saw counts in every mean but follows
        no policy compared; every arm a compared policy gives (and the control) must occur.
        """
        check_is_fitted(self, "menu_")
        frame = as_frame(X)
        T = np.asarray(T)
        Y = np.asarray(Y, dtype=float)
        if Y.shape != (len(frame),) or T.shape != Y.shape:
            raise ValueError("X, T and Y must have the same number of rows")
        arms = self._arms.values
        t = self._arms.index(T, unknown=len(arms))          # unseen treatments: one extra arm
        mu = np.hstack([self._levels(frame, arms), np.zeros((len(Y), 1))])   # (n, n_arms + 1) profit levels
        realized = self._realized(t, Y)
        share = np.bincount(t, minlength=len(arms) + 1) / len(t)
        to_arm = self._nearest_arm()
        offered = self.predict(frame)
        policy = np.asarray([to_arm[_key(v, self._arms.dose)] for v in offered], dtype=np.intp)
        single_value = self.candidates_[int(self.solutions_[min(self.solutions_)].treatments[0])] \
            if 1 in self.solutions_ else self._best_single()
        single = np.full(len(Y), to_arm[_key(single_value, self._arms.dose)], dtype=np.intp)
        needed = np.union1d(np.union1d(policy, single), [0])
        if (share[needed] == 0).any():
            missing = [arms[k] for k in needed[share[needed] == 0]]
            raise ValueError(f"the held-out data has no individual on arm(s) {missing} that the policies compared "
                             "give: DR needs them")
        e = np.maximum(share[t], 1e-300)
        lift = dr_policy_value(realized, t, e, mu, policy, reference=np.zeros(len(Y), dtype=np.intp), level=level)
        versus = dr_policy_value(realized, t, e, mu, policy, reference=single, level=level)
        values, counts = np.unique(offered.astype(str), return_counts=True)
        return PolicyScore(lift, versus, single_value, dict(zip(values.tolist(), (counts / len(offered)).tolist(),
                                                                strict=True)),
                           {v: arms[to_arm[_key(v, self._arms.dose)]] for v in self.menu_}, len(Y))

    def plot_curve(self, ax=None):
        """The profit-vs-K figure of ``curve_`` (fit with a sequence of K); returns the Axes."""
        check_is_fitted(self, "solutions_")
        if self.curve_ is None:
            raise ValueError("plot_curve needs a profit curve: fit with K a sequence, e.g. range(1, 11)")
        from .plot import plot_profit_curve

        return plot_profit_curve(self.curve_, ax)

    # -- persistence --------------------------------------------------------------------------
    def __getstate__(self):
        state = super().__getstate__()
        state["_coarse_mip_version"] = __version__
        return state

    def __setstate__(self, state):
        written = state.pop("_coarse_mip_version", "unknown")
        if _release(written) != _release(__version__):
            raise ValueError(f"this policy was saved by coarse_mip {written}; this is coarse_mip {__version__}: "
                             "refit it (saved policies load only within the same minor version)")
        super().__setstate__(state)

    # -- internals ----------------------------------------------------------------------------
    def _check_params(self) -> list[int]:
        Ks = [self.K] if isinstance(self.K, numbers.Integral) else list(self.K)
        if not Ks:
            raise ValueError("K must be a positive integer or a non-empty sequence of them")
        Ks = sorted({check_K(k) for k in Ks})
        if self.estimator not in ESTIMATORS:
            raise ValueError(f"estimator must be one of {ESTIMATORS}, got {self.estimator!r}")
        if self.menu_from not in ("in_sample", "out_of_fold"):
            raise ValueError(f"menu_from must be 'in_sample' or 'out_of_fold', got {self.menu_from!r}")
        check_int(self.cv, "cv", 2)
        check_int(self.scenarios, "scenarios", 0)
        if self.assignment not in ("auto", *RULES):
            raise ValueError(f"assignment must be 'auto' or one of {RULES}, got {self.assignment!r}")
        if self.scenarios and self.constraints is not None:
            raise ValueError("scenarios (robust menus) do not combine with constraints")
        if self.interpolation != "auto" and self.interpolation not in INTERPOLATIONS:
            raise ValueError(f"interpolation must be 'auto' or one of {INTERPOLATIONS}, got {self.interpolation!r}")
        if isinstance(self.margin, bool) or not isinstance(self.margin, numbers.Real) or not np.isfinite(self.margin):
            raise ValueError(f"margin must be a finite number, got {self.margin!r}")
        if self.constraints is not None and not isinstance(self.constraints, Constraints):
            raise ValueError("constraints must be a coarse_mip.Constraints")
        return Ks

    def _find_arms(self, T: np.ndarray) -> _Arms:
        numeric = pd.api.types.is_numeric_dtype(T) and not pd.api.types.is_bool_dtype(T)
        if numeric:
            doses = np.unique(_doses(T))
            control = 0.0 if self.control is None else float(self.control)
            if not np.isfinite(doses).all():
                raise ValueError("T contains NaN or inf")
            if control not in doses or doses.min() != control or control != 0.0:
                raise ValueError(f"numeric doses need the control at 0 and no dose below it; got control {control!r} "
                                 f"and doses from {doses.min()!r}")
            if self.estimator in _PER_ARM and doses.size > 12:
                logger.warning("%d distinct doses: one model per arm may be thin; estimator='dose' pools them",
                               doses.size)
            return _Arms(tuple(float(d) for d in doses), True)
        if self.estimator in ("dose", "dml", "logit"):
            raise ValueError(f"estimator={self.estimator!r} needs numeric doses; T holds labels")
        labels = list(pd.unique(T))
        if self.control is None:
            raise ValueError(f"labelled treatments need control= (one of {sorted(map(str, labels))})")
        if self.control not in labels:
            raise ValueError(f"control {self.control!r} is not a treatment of T ({sorted(map(str, labels))})")
        rest = sorted((v for v in labels if v != self.control), key=str)
        return _Arms((self.control, *rest), False)

    def _find_candidates(self) -> tuple:
        arms = self._arms.values
        if self.candidates is None:
            return arms
        cand = list(self.candidates)
        if self._arms.dose:
            grid = np.asarray(cand, dtype=float)
            if grid.ndim != 1 or grid.size == 0 or grid[0] != 0.0 or np.any(np.diff(grid) <= 0) or grid[-1] > arms[-1]:
                raise ValueError(f"candidates must increase from the control 0 to at most the largest arm {arms[-1]}")
            return tuple(float(g) for g in grid)
        unknown = [c for c in cand if c not in arms]
        if unknown:
            raise ValueError(f"candidates {unknown} are not treatments of the experiment ({list(arms)})")
        return (arms[0], *[c for c in cand if c != arms[0]])

    def _stage1(self, name: str):
        if name == "dose":
            return DoseResponseEstimator(random_state=self.random_state)
        if name == "two_part":
            return DoseResponseEstimator(monotone=None, two_part=True, random_state=self.random_state)
        if name == "dml":
            return DoseDMLEstimator(random_state=self.random_state)
        if name == "logit":
            return LogitDoseEstimator(random_state=self.random_state)
        return ArmOutcomeEstimator(learner=name, random_state=self.random_state)

    def _learn_assignment(self, X, sw, groups) -> None:
        """``assignment_``, ``assignment_table_`` and the learned rule of the current menu (see ``assignment``)."""
        self._rule, self.assignment_table_ = None, None
        self.assignment_ = "plug_in"
        if self.assignment == "plug_in" or len(self._menu_cols) < 2:
            return
        if self.profits_oof_ is None:
            if self.assignment != "auto":
                raise ValueError(f"assignment={self.assignment!r} needs estimator='auto' on at most {SELECTION_ROWS} "
                                 "individuals (their out-of-fold profits and DR scores)")
            return
        frame = as_frame(X)
        Z = encode(self.estimator_, frame)
        scores = self._price(self.selection_.outcome_scores, self.candidates_, self._interpolation())
        rewards = (scores - scores[:, :1])[:, self._menu_cols]
        splits = folds(len(frame), self.cv, self.random_state, groups)
        table = compare_assignments(Z, rewards, self.profits_oof_.to_numpy()[:, self._menu_cols], splits,
                                    sample_weight=sw, random_state=self.random_state)
        self.assignment_table_ = table
        if self.assignment == "auto":
            gain = table["value"] - table.loc["plug_in", "value"]
            better = table[(gain > table["se_vs_plug_in"]) & (table.index != "plug_in")]
            self.assignment_ = str(better["value"].idxmax()) if len(better) else "plug_in"
        else:
            self.assignment_ = self.assignment
        if self.assignment_ != "plug_in":
            self._rule = (tuple(self._menu_cols), fit_rule(self.assignment_, Z, rewards, sw, self.random_state))
        logger.info("assignment to the menu: %s\n%s", self.assignment_, table.to_string())

    def _scenarios(self, X, T, Y, sw, groups) -> list[np.ndarray]:
        """Incremental profits (n, m) of the training individuals under B bootstrap refits of Stage I."""
        frame = as_frame(X)
        t = self._arms.index(T)
        Y = np.asarray(Y, dtype=float)
        n = len(t)
        rng = np.random.default_rng(self.random_state)
        base = np.ones(n) if sw is None else sw
        out = []
        for _ in range(self.scenarios):
            counts = rng.multinomial(n, np.full(n, 1.0 / n)).astype(float)
            est = self._final(self.estimator_name_).fit(frame, t, Y, sample_weight=base * counts, groups=groups,
                                                        **self._fit_extra(self.estimator_name_))
            levels = self._price(est.predict(frame) + self.arm_shift_, self.candidates_, self._interpolation())
            out.append(levels - levels[:, :1])
        return out

    def _stability(self, scenarios: list[np.ndarray], K: int, sw) -> dict:
        own = [solve(P, K, self.method, weights=sw, time_limit=self.time_limit, seed=self.random_state).treatments
               for P in scenarios]
        plain = solve(self.profits_, K, self.method, weights=sw, time_limit=self.time_limit,
                      seed=self.random_state).treatments
        stability = menu_stability([[self.candidates_[j] for j in menu] for menu in own], self.candidates_)
        return {**stability, "shares": scenario_shares(scenarios, self._menu_cols, sw),
                "plain_shares": scenario_shares(scenarios, plain, sw)}

    def _final(self, name: str):
        """The Stage I estimator fitted on all training individuals: one candidate, or the stack."""
        if name != STACK:
            return self._stage1(name)
        members = [(k, self._stage1(k), self._fit_extra(k)) for k in self.stack_weights_]
        return StackedEstimator(members, list(self.stack_weights_.values()))

    def _fit_extra(self, name: str) -> dict:
        return {} if name in _PER_ARM or name == STACK else {"arms": self._arms.values}

    def _auto_candidates(self, t: np.ndarray, Y: np.ndarray) -> list[str]:
        """The estimators "auto" compares: the per-arm DRLearner when every arm has 10 individuals per
        fold, the pooled models that fit the treatment (doses or labels) and the outcome (zeros)."""
        names = []
        if np.bincount(t).min() >= 10 * self.cv:
            names.append("dr")
        if self._arms.dose:
            names += ["dose", "dml"]
        nonzero = np.mean(Y != 0)
        if 0.0 < nonzero < 1.0:
            names.append("two_part")
            if self._arms.dose:
                names.append("logit")
        if not self._arms.dose and not names:
            names.append("dr")       # its own error names the thin arm
        return names

    def _select(self, names: list[str], frame: pd.DataFrame, t: np.ndarray, Y: np.ndarray, sw, groups) -> Selection:
        """The DR-loss ranking of ``names`` (x interpolations), on a seeded sample of SELECTION_ROWS if larger."""
        rows = np.arange(len(t))
        if len(t) > SELECTION_ROWS:
            rows = np.sort(np.random.default_rng(self.random_state).choice(len(t), SELECTION_ROWS, replace=False))
        variants = [None]
        if self._arms.dose:
            variants = ["quadratic", "linear"] if self.interpolation == "auto" else [self.interpolation]
            if len(self._arms.values) < 3:
                variants = ["linear"]
        selection = select_estimator({k: self._stage1(k) for k in names}, frame.iloc[rows], t[rows], Y[rows],
                                     price=self._price_arms, variants=variants, cv=self.cv,
                                     random_state=self.random_state,
                                     sample_weight=None if sw is None else sw[rows],
                                     groups=None if groups is None else np.asarray(groups)[rows],
                                     fit_params={k: self._fit_extra(k) for k in names})
        self._selection_rows = rows
        logger.info("Stage I chosen by cross-fitted DR loss:\n%s", selection.table.to_string())
        return selection

    def _price_arms(self, outcome: np.ndarray, variant: str | None = None) -> np.ndarray:
        """Profit levels at the arms (n, n_arms): the outcomes as they are (``variant=None``, affine),
        or first passed through the demand curve ``variant`` (the quadratic smooths them)."""
        return self._price(outcome, self._arms.values, variant or "linear")

    def _choose_interpolation(self, sw) -> tuple:
        """(interpolation, its left-out-arm table or None). The table is built with ``estimator="auto"``
        and ``interpolation="auto"`` when some candidate lies between two arms and an arm is interior;
        with every candidate at an arm, "pchip" (the arm estimates as they are): the left-out-arm
        criterion answers a question about doses between arms, and a smoother would only blur the
        estimates at the arms (Thornton: the jump from no voucher to 10 cents)."""
        if self.interpolation != "auto" or not self._arms.dose or self.selection_ is None:
            return self._default_interpolation(self.estimator_name_), None
        arms = np.asarray(self._arms.values, dtype=float)
        between = ~np.isclose(np.asarray(self.candidates_, dtype=float)[:, None], arms[None, :], rtol=0.0,
                              atol=1e-12).any(axis=1)
        if len(arms) < 3 or not between.any():
            return "pchip", None
        methods = [m for m in INTERPOLATIONS if m != "quadratic" or len(arms) >= 4]
        sel = self.selection_
        table = interpolation_table(sel.out_of_fold[self.estimator_name_] + self.arm_shift_, arms, sel.scores,
                                    self._price_arms, methods, None if sw is None else sw[self._selection_rows])
        return choose_interpolation(table), table

    def _cost(self, values) -> np.ndarray:
        cost = self.treatment_cost
        if cost is None:
            return np.zeros(len(values))
        if isinstance(cost, Mapping):
            keyed = {_key(k, self._arms.dose): float(v) for k, v in cost.items()}
            return np.array([keyed.get(_key(v, self._arms.dose), 0.0) for v in values])
        return np.full(len(values), float(cost))

    def _levels(self, X, values) -> np.ndarray:
        """Estimated profit levels (not incremental) of ``values`` (candidates or arms), (n, len)."""
        return self._price(self.predict_outcome(X), values, self._interpolation())

    def _arm_shift(self, frame: pd.DataFrame, sw) -> np.ndarray:
        """AIPW mean minus the final fit's mean outcome at each arm, over the selection's individuals,
        shrunk by its noise: ``d * max(0, 1 - se^2 / d^2)`` (positive-part James-Stein), so an arm given
        to a handful of people (Thornton: 2) is not moved by their luck."""
        sel = self.selection_
        rows = self._selection_rows
        w = np.ones(sel.n) if sw is None else sw[rows]
        w = w / w.sum()
        diff = sel.outcome_scores - self.estimator_.predict(frame.iloc[rows])
        shift = w @ diff
        var = (w @ (diff - shift) ** 2) * (w @ w)           # variance of a weighted mean
        return shift * np.maximum(0.0, 1.0 - var / np.maximum(shift ** 2, 1e-300))

    def _price(self, outcome: np.ndarray, values, method: str | None) -> np.ndarray:
        """Profit levels of ``values`` from outcomes at the arms (n, n_arms), demand between doses by ``method``."""
        if self._arms.dose:
            cost = dict(zip(values, self._cost(values), strict=True))
            return profit_matrix(outcome, self._arms.values, list(values), margin=self.margin, cost=cost,
                                 method=method, incremental=False, labels="float").to_numpy()
        cols = [self._arms.values.index(v) for v in values]
        return self.margin * outcome[:, cols] - self._cost(values)[None, :]

    def _interpolation(self) -> str | None:
        return self.interpolation_ if self._arms.dose else None

    def _default_interpolation(self, name: str) -> str | None:
        if not self._arms.dose:
            return None
        if self.interpolation != "auto":
            return self.interpolation if len(self._arms.values) >= 3 or self.interpolation != "quadratic" else "linear"
        return "quadratic" if name in _PER_ARM and len(self._arms.values) >= 3 else "linear"

    def _realized(self, t: np.ndarray, Y: np.ndarray) -> np.ndarray:
        """Realized profit of each held-out individual under the arm they received (an unseen
        treatment, index ``len(arms)``, only ever enters the means: valued 0)."""
        arms = self._arms.values
        seen = t < len(arms)
        tt = np.where(seen, t, 0)
        cost = self._cost(arms)[tt]
        value = Y * (self.margin - np.asarray(arms)[tt]) - cost if self._arms.dose else self.margin * Y - cost
        return np.where(seen, value, 0.0)

    def _nearest_arm(self) -> dict:
        arms = self._arms.values
        if not self._arms.dose:
            return {v: arms.index(v) for v in self.candidates_}
        grid = np.asarray(arms)
        return {float(v): int(np.argmin(np.abs(grid - float(v)))) for v in self.candidates_}

    def _best_single(self):
        return self.candidates_[int(np.argmax(self.profits_.to_numpy().sum(axis=0)))]


def _curve(solutions: dict, profits: pd.DataFrame, weights) -> pd.DataFrame:
    w = np.ones(len(profits)) if weights is None else np.asarray(weights)
    full = float(w @ profits.to_numpy().max(axis=1))
    rows = [{"K": K, "objective": s.objective, "bound": s.bound, "gap": s.gap, "status": s.status,
             "labels": list(s.labels), "share": s.objective / full if full > 0 else np.nan,
             "seconds": s.runtime_s} for K, s in sorted(solutions.items())]
    table = pd.DataFrame(rows)
    table.attrs["full_personalization"] = full
    return table


def _choose(table: pd.DataFrame) -> str:
    """The estimator from the DR-loss table by the one-standard-error rule: rows (an estimator's
    arm predictions as they are, or smoothed by the quadratic through them) whose loss is within
    one standard error (of their difference) of the best are not distinguishable by it; among
    them the one whose plug-in policy has the highest cross-fitted DR value is taken (the
    quantity a menu is chosen for). The demand between the arms is chosen apart
    (:func:`~coarse_mip.stage1.select.choose_interpolation`)."""
    best = table["dr_loss"].iloc[0]
    close = table[table["dr_loss"] - best <= table["dr_loss_se"]]
    return str(close.loc[close["policy_value"].idxmax(), "estimator"])


def _optimism(in_sample: pd.DataFrame, out_of_fold: pd.DataFrame, menu: np.ndarray, weights) -> float:
    """The menu's estimated share of full personalization in sample minus out of fold (each row at its
    estimated best offered column)."""
    inside, outside = scenario_shares([in_sample.to_numpy(), out_of_fold.to_numpy()], menu, weights)
    return float(inside - outside)


def _release(version: str) -> tuple:
    parts = str(version).split(".")
    return tuple(parts[:2])


def _is_dask(X) -> bool:
    """A Dask collection (rows beyond memory), handled partition by partition."""
    return type(X).__module__.startswith("dask") and hasattr(X, "map_partitions")


def _profit_part(part: pd.DataFrame, policy: CoarsePolicy) -> pd.DataFrame:
    return policy.predict_profit(part).set_axis(part.index)


def _predict_part(part: pd.DataFrame, policy: CoarsePolicy, dtype) -> pd.Series:
    return pd.Series(policy.predict(part), index=part.index, dtype=dtype)
