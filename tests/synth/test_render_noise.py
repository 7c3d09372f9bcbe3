"""The renders' pixel noise by table has the distribution the former draw had."""

from __future__ import annotations

import numpy as np
import pytest

from itbcoach.synth.render import noise_table


@pytest.mark.parametrize("sd", [1.0, 2.0, 3.0])
def test_noise_table_matches_floor_of_gaussian_noise(sd):
    table = noise_table(sd)
    assert table.shape == (256,) and table.dtype == np.int16
    ref = np.floor(np.random.default_rng(0).normal(0.0, sd, 400_000))
    # floor() of N(0, sd) has mean -0.5 and SD sqrt(sd^2 + 1/12); 256 quantiles cut the
    # tails at 2.9 SD
    assert table.mean() == pytest.approx(ref.mean(), abs=0.02)
    assert table.std() == pytest.approx(ref.std(), rel=0.02)
    assert np.all(np.diff(table) >= 0)
    assert table.min() >= np.floor(-2.9 * sd) and table.max() <= np.floor(2.9 * sd)
