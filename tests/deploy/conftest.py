"""The chart, loaded once, and its renderings with the default and the off-cluster values."""

from __future__ import annotations

from collections.abc import Iterator

import helm_python as helm
import pytest

from tests.deploy.chart import CHART_DIR, OFFCLUSTER_VALUES, Rendered, load_values, render


@pytest.fixture(scope="session")
def chart() -> Iterator[helm.Chart]:
    with helm.Chart.load(CHART_DIR) as loaded:
        yield loaded


@pytest.fixture(scope="session")
def default(chart: helm.Chart) -> Rendered:
    return render(chart)


@pytest.fixture(scope="session")
def offcluster(chart: helm.Chart) -> Rendered:
    return render(chart, load_values(OFFCLUSTER_VALUES))
