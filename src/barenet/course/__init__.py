"""A course a teacher can adopt: the student's and the teacher's editions, and a grader.

- :mod:`barenet.course.build`: one command writes both editions from the same sources, the
  documentation site and the notebooks, with the solutions removed for the student (nbgrader's
  markers in the notebooks, pymdownx.details' solution blocks in the pages);
- :mod:`barenet.course.grade`: grades a folder of submissions with pytest, offline, and writes
  a report per student and one for the class;
- :mod:`barenet.course.plugin`: the pytest plugin that runs a student's notebook and scores
  each test's points; the tests themselves are in ``barenet/course/grading/`` (``visible/``,
  also in the student's GitHub Classroom repository, and ``hidden/``, only in the teacher's);
- :mod:`barenet.course.markers`: the markers, nbgrader's and the pages' own.

From a terminal: ``barenet course build --out DIR`` and ``barenet course grade SUBMISSIONS
--out REPORT`` (or ``python -m barenet.course ...``).
"""
