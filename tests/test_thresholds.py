import pytest

from ff_lightning.thresholds import constant, custom, pyramid, thetas


def test_constant_defaults_to_number_of_units():
    assert constant(4) == [1.0, 1.0, 1.0, 1.0]
    assert thetas(constant, [2000, 2000, 2000, 2000]) == [2000.0] * 4


def test_constant_multiplier():
    assert constant(3, k=0.5) == [0.5, 0.5, 0.5]


def test_linear_pyramid_matches_hand_computed_list():
    assert pyramid(5, start=0.3, end=0.5) == pytest.approx([0.3, 0.35, 0.4, 0.45, 0.5])
    assert thetas(lambda n, e: pyramid(n, e, start=0.3, end=0.5), [2000, 1000, 500]) == pytest.approx(
        [600.0, 400.0, 250.0]
    )


def test_geometric_pyramid_matches_hand_computed_list():
    assert pyramid(3, start=0.25, end=1.0, shape="geometric") == pytest.approx([0.25, 0.5, 1.0])


def test_pyramid_of_one_layer_is_its_start():
    assert pyramid(1, start=0.3, end=0.5) == [0.3]


def test_pyramid_rejects_unknown_shape():
    with pytest.raises(ValueError, match="linear, geometric"):
        pyramid(3, shape="spiral")


def test_custom_needs_one_multiplier_per_layer():
    assert custom(2, multipliers=[0.2, 0.7]) == [0.2, 0.7]
    with pytest.raises(ValueError, match="3 values for 2 layers"):
        custom(2, multipliers=[1, 2, 3])
