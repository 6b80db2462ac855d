"""Checkers for one optimizer step: momentum (Sutskever et al. 2013) and Adam (Kingma & Ba
2015, Algorithm 1), against barenet's :class:`~barenet.optim.optimizers.SGD` and
:class:`~barenet.optim.optimizers.Adam`, started from the state each case gives.

An optimizer step returns arrays rather than gradients: the new parameters and the new state.
"""

import numpy as np

from barenet.exercises.checking import Case, check_cases, seeded, shapes, two_different
from barenet.optim.optimizers import SGD, Adam


def parameter_arrays(rng, k, n):
    """``n`` random arrays of one non-square shape, ``(a, b)`` or, for case 1, ``(a,)``."""
    a, b = two_different(rng, 3, 6)
    shape = (a,) if k == 1 else (a, b)
    return [rng.normal(size=shape) for _ in range(n)]


def momentum_case(seed, k, lr, mu):
    """Case ``k``: barenet's SGD with momentum, its velocity set to a random one."""
    rng = seeded(seed, k)
    params, grads, velocity = parameter_arrays(rng, k, 3)
    optimizer = SGD(learning_rate=lr, momentum=mu)
    new_params = params.copy()
    optimizer.setup(new_params)
    optimizer.set_state({"t": np.array(k), "velocity": velocity})
    optimizer.step(new_params, grads.copy())
    new_velocity = optimizer.velocity.copy()

    def step(v):  # the parameters after a step by the velocity v
        return params + v

    torch_v = mu * velocity + grads  # PyTorch's form keeps v without the learning rate
    mistakes = {
        "params": [
            (
                "that is PyTorch's form (v <- mu v + g, p <- p - lr v); this exercise uses the "
                "paper's: v <- mu v - lr g, then p <- p + v",
                params - lr * torch_v,
            ),
            ("the step uses the new velocity: update v first, then p <- p + v", step(velocity)),
            (
                "the sign: the velocity moves against the gradient, v <- mu v - lr g",
                step(mu * velocity + lr * grads),
            ),
            ("mu is missing: v <- mu v - lr g", step(velocity - lr * grads)),
            ("the parameters did not move: p <- p + v, with the new v", params),
        ],
        "velocity": [
            (
                "that is PyTorch's form (v <- mu v + g); this exercise uses v <- mu v - lr g",
                torch_v,
            ),
            (
                "the sign: the velocity moves against the gradient, v <- mu v - lr g",
                mu * velocity + lr * grads,
            ),
            ("mu is missing: v <- mu v - lr g", velocity - lr * grads),
            ("the velocity did not change: v <- mu v - lr g", velocity),
        ],
    }
    description = f"{shapes(params=params)}, lr {lr:g}, mu {mu:g}"
    references = {"params": new_params, "velocity": new_velocity}
    return Case(description, (params, grads, velocity, lr, mu), references, mistakes)


def check_momentum(momentum_step, seed=0):
    """Check ``momentum_step(params, grads, velocity, lr, mu) -> (params, velocity)`` against
    barenet's :class:`~barenet.optim.optimizers.SGD` with ``momentum=mu``.

    One step of gradient descent with momentum in the form of Sutskever et al. (2013):
    ``v <- mu v - lr g``, then ``p <- p + v``; ``params``, ``grads`` and ``velocity`` are arrays
    of one shape (any), ``lr`` and ``mu`` numbers. Return the new ``params`` and the new
    ``velocity`` (new arrays, or the given ones updated in place). Three cases.
    """
    settings = ((0.1, 0.9), (0.05, 0.5), (0.3, 0.7))
    cases = [momentum_case(seed, k, lr, mu) for k, (lr, mu) in enumerate(settings)]
    return check_cases("momentum_step", momentum_step, cases, noun="arrays")


def adam_formula(params, grads, m, v, t, lr, beta1, beta2, eps, mistake=None):
    """``(params, m, v)`` after Kingma & Ba's Algorithm 1 at step ``t``, in NumPy, or after
    the slip ``mistake`` names (see :func:`adam_case`)."""
    m_new = beta1 * m + (grads if mistake == "m without 1 - beta1" else (1 - beta1) * grads)
    squares = grads if mistake == "g not squared" else grads * grads
    v_new = beta2 * v + (squares if mistake == "v without 1 - beta2" else (1 - beta2) * squares)
    t = {"t + 1": t + 1, "t - 1": t - 1}.get(mistake, t)
    m_hat = m_new if mistake in ("no correction", "no m correction") else m_new / (1 - beta1**t)
    v_hat = v_new if mistake in ("no correction", "no v correction") else v_new / (1 - beta2**t)
    if mistake == "old moments":
        m_hat, v_hat = m / (1 - beta1**t), v / (1 - beta2**t)
    if mistake == "eps inside":
        step = lr * m_hat / np.sqrt(v_hat + eps)
    else:
        step = lr * m_hat / (np.sqrt(v_hat) + eps)
    if mistake == "corrected moments returned":
        m_new, v_new = m_hat, v_hat
    return params + step if mistake == "sign" else params - step, m_new, v_new


ADAM_MISTAKES = {
    "no correction": "the bias correction is missing: m_hat = m / (1 - beta1^t) and "
    "v_hat = v / (1 - beta2^t) before the step",
    "no m correction": "the bias correction of m is missing: m_hat = m / (1 - beta1^t)",
    "no v correction": "the bias correction of v is missing: v_hat = v / (1 - beta2^t)",
    "t + 1": "t is already this step's number (1 on the first step): use beta^t, not beta^(t+1)",
    "t - 1": "t is already this step's number (1 on the first step): use beta^t, not beta^(t-1)",
    "eps inside": "eps goes outside the square root: lr m_hat / (sqrt(v_hat) + eps)",
    "g not squared": "v averages the squared gradient: v <- beta2 v + (1 - beta2) g^2",
    "m without 1 - beta1": "the new gradient enters m with the weight 1 - beta1: "
    "m <- beta1 m + (1 - beta1) g",
    "v without 1 - beta2": "the new squared gradient enters v with the weight 1 - beta2: "
    "v <- beta2 v + (1 - beta2) g^2",
    "old moments": "the step uses the new moments: update m and v first, then correct them",
    "corrected moments returned": "return the moments m and v themselves, not m_hat and v_hat: "
    "the next step corrects them again",
    "sign": "the sign: Adam steps against the gradient, p <- p - lr m_hat / (sqrt(v_hat) + eps)",
}


def adam_case(seed, k, t, lr, beta1, beta2, eps):
    """Case ``k``: barenet's Adam at step ``t`` from random moments (zero ones at ``t = 1``, as
    on a first step); gradients of about ``eps``'s square root, so that where eps goes shows."""
    rng = seeded(seed, k)
    params, grads, m, v = parameter_arrays(rng, k, 4)
    grads *= np.sqrt(eps) * 3
    if t == 1:
        m, v = np.zeros_like(m), np.zeros_like(v)
    else:  # moments a run could have reached: v >= 0, about the size of g and g^2
        m, v = m * np.sqrt(eps) * 3, (v * np.sqrt(eps) * 3) ** 2
    optimizer = Adam(learning_rate=lr, beta1=beta1, beta2=beta2, eps=eps)
    new_params = params.copy()
    optimizer.setup(new_params)
    # barenet stores M = m / (1 - beta1) and V = v / (1 - beta2): see its docstring
    state = {"t": np.array(t - 1), "M": m / (1 - beta1), "V": v / (1 - beta2)}
    optimizer.set_state(state)
    optimizer.step(new_params, grads.copy())
    references = {
        "params": new_params,
        "m": optimizer.state()["M"] * (1 - beta1),
        "v": optimizer.state()["V"] * (1 - beta2),
    }
    mistakes = {name: [] for name in references}
    args = (params, grads, m, v, t, lr, beta1, beta2, eps)
    with np.errstate(all="ignore"):  # beta^(t-1) is 1 at t = 1: such a mistake gives inf
        for mistake, what in ADAM_MISTAKES.items():
            for name, array in zip(references, adam_formula(*args, mistake=mistake)):
                mistakes[name].append((what, array))
    description = (
        f"{shapes(params=params)}, t {t}, lr {lr:g}, beta1 {beta1:g}, beta2 {beta2:g}, eps {eps:g}"
    )
    return Case(description, args, references, mistakes)


def check_adam(adam_step, seed=0):
    """Check ``adam_step(params, grads, m, v, t, lr, beta1, beta2, eps) -> (params, m, v)``
    against barenet's :class:`~barenet.optim.optimizers.Adam`.

    One step of Adam, Algorithm 1 of Kingma & Ba (2015), at step number ``t`` (1 on the first
    step): ``m <- beta1 m + (1 - beta1) g``, ``v <- beta2 v + (1 - beta2) g^2``, the bias
    corrections ``m_hat = m / (1 - beta1^t)`` and ``v_hat = v / (1 - beta2^t)``, then
    ``p <- p - lr m_hat / (sqrt(v_hat) + eps)``. ``params``, ``grads``, ``m`` and ``v`` are
    arrays of one shape; return the new ``params``, ``m`` and ``v`` (the moments without their
    correction). Three cases: a first step from zero moments, then steps 3 and 10 with a large
    eps, so that where it goes shows.
    """
    settings = (
        (1, 0.01, 0.9, 0.999, 1e-8),
        (3, 0.001, 0.9, 0.999, 1e-3),
        (10, 0.02, 0.8, 0.99, 1e-4),
    )
    cases = [adam_case(seed, k, *setting) for k, setting in enumerate(settings)]
    return check_cases("adam_step", adam_step, cases, noun="arrays")
