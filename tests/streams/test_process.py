"""A pid file never makes streamrec signal a stranger: the pid must belong to the process that was
started (same start time), as after a reboot it may not."""

import subprocess

from streams.infra.process import ManagedProcess, start_time


def test_a_recycled_pid_is_never_signalled_and_the_right_one_is(tmp_path):
    stranger = subprocess.Popen(["sleep", "60"])
    try:
        service = ManagedProcess("svc", tmp_path, ["true"], ready=lambda: False)
        service.pid_file.write_text(f"{stranger.pid} 1")  # same pid, another start time: not ours
        assert service.pid() is None and not service.pid_file.exists()
        service.pid_file.write_text(f"{stranger.pid} 1")
        assert service.stop(timeout_s=1) is False and stranger.poll() is None  # still alive, untouched
        service.pid_file.write_text(f"{stranger.pid} {start_time(stranger.pid)}")
        assert service.pid() == stranger.pid
        assert service.stop(timeout_s=5) is True
        assert stranger.wait(timeout=5) is not None
    finally:
        stranger.kill()
