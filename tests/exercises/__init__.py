"""Tests of :mod:`barenet.exercises`' checkers for notebook 7: the solutions pass, each common
mistake fails with its hint, the references are right, and nothing a student writes crashes a
checker."""
