import json
import logging

from shared.logs import about_conference, configure_logging


def test_json_lines_carry_the_conference_and_task_ids(capsys):
    configure_logging("INFO", json_lines=True, task_id=lambda: "task-42")
    with about_conference(17):
        logging.getLogger("shared.pipeline.runner").info("room %s made", "R1")
    logging.getLogger("x").info("outside")
    first, second = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    assert (first["message"], first["conference_id"], first["task_id"], first["level"]) == ("room R1 made", 17, "task-42", "INFO")
    assert second["conference_id"] is None
