"""Notebook 6, *Write the backward pass*: the checks the student runs in the notebook, for
points. A student sees these (the student edition's GitHub Classroom repository runs them); the
hidden tests (``hidden/``) try the same functions on other shapes and inputs."""

import pytest

from barenet import exercises
from barenet.course.plugin import expect

NOTEBOOK = "06-write-the-backward-pass.ipynb"
FUNCTIONS = (
    "dense_backward",
    "relu_backward",
    "softmax_cross_entropy_backward",
    "network_backward",
)


@pytest.mark.grade("dense_backward", points=2)
def test_dense_backward(student):
    expect(exercises.check_dense(student.function("dense_backward")))


@pytest.mark.grade("relu_backward", points=1)
def test_relu_backward(student):
    expect(exercises.check_relu(student.function("relu_backward")))


@pytest.mark.grade("softmax_cross_entropy_backward", points=2)
def test_softmax_cross_entropy_backward(student):
    function = student.function("softmax_cross_entropy_backward")
    expect(exercises.check_softmax_cross_entropy(function))


@pytest.mark.grade("network_backward", points=3)
def test_network_backward(student):
    expect(exercises.check_network(student.function("network_backward")))
