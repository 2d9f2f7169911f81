"""Recording classrooms (录播教室): devices with their own tokens, their timetables, and the
recordings they push, matched to the lesson they recorded."""
