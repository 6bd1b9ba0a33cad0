# -*- coding: utf-8 -*-
# Copyright: WaysCloud Databases developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""The host's scheduled jobs (backups of a database, the metrics collector): a systemd timer where
systemd runs, else a cron.d file. Both run the same command (host/runner.py); only the files differ:
- systemd: ``<name>.service`` and ``<name>.timer`` in ``unit_dir``, the timer on OnCalendar (in UTC,
  Persistent=true so a slot missed while the host was down runs at boot), enabled with systemctl;
- cron: ``/etc/cron.d/<name>``. Cron has no portable UTC, so a job that must follow UTC slots runs
  more often and decides itself (host/jobs.py).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import shlex
import stat
import tempfile


JOB_FILE_MODE = 0o644  # cron reads /etc/cron.d as root; systemd its units


def systemd_running():
    return os.path.isdir('/run/systemd/system')


def file_drift(path, text, mode=0o644):
    """What keeps the file at ``path`` from being what the collection writes there (``text``, ``mode``, owned by
    this process's user): 'missing', 'not a regular file', 'edited', 'mode 0644', 'owner uid 1000'; None when
    nothing does. A symbolic link is not a regular file: its target could be anyone's."""
    try:
        info = os.lstat(path)
    except OSError:
        return 'missing'
    if not stat.S_ISREG(info.st_mode):
        return 'not a regular file'
    if not holds(path, text):
        return 'edited'
    if stat.S_IMODE(info.st_mode) != mode:
        return 'mode %04o' % stat.S_IMODE(info.st_mode)
    if info.st_uid != os.geteuid():
        return 'owner uid %d' % info.st_uid
    return None


def files_drift(files):
    """{path: (as found, as it would be)} of the files ({path: (text, mode)}) that are not as the collection writes
    them: what a diff shows of a schedule or runner edited, chmod-ed or deleted by hand."""
    drift = {}
    for path, (text, mode) in files.items():
        found = file_drift(path, text, mode)
        if found:
            drift[path] = (found, written(mode))
    return drift


def written(mode):
    """How a diff names a file as the collection writes it."""
    return 'written, mode %04o' % mode


def write_if_changed(path, text, mode):
    """Atomically replace ``path`` unless it is what the collection writes (file_drift); True if it did."""
    if file_drift(path, text, mode) is None:
        return False
    fd, temporary = tempfile.mkstemp(prefix='.wayscloud-', dir=os.path.dirname(path))
    try:
        with os.fdopen(fd, 'w') as handle:
            handle.write(text)
            os.fchmod(handle.fileno(), mode)
        os.rename(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise
    return True


def remove_file(path):
    try:
        os.unlink(path)
    except OSError:
        return False
    return True


class Schedule:
    """``driver``: systemd or cron; ``run(argv)``: the command runner (systemctl). A job is named by its
    unit (systemd) or file (cron) name and runs one command as root."""

    def __init__(self, run, driver=None, unit_dir='/etc/systemd/system', cron_dir='/etc/cron.d'):
        self.run = run
        self.driver = driver or ('systemd' if systemd_running() else 'cron')
        self.unit_dir = unit_dir
        self.cron_dir = cron_dir

    def files(self, name):
        if self.driver == 'systemd':
            return [os.path.join(self.unit_dir, name + '.service'), os.path.join(self.unit_dir, name + '.timer')]
        return [os.path.join(self.cron_dir, name)]

    def render(self, name, description, calendar, cron, command):
        """{path: text} of a job's files: ``calendar`` is its OnCalendar, ``cron`` its five cron fields."""
        line = ' '.join(shlex.quote(part) for part in command)
        if self.driver == 'systemd':
            service, timer = self.files(name)
            return {
                service: ('# Written by wayscloud.databases; edits are lost.\n[Unit]\nDescription=%s\n\n'
                          '[Service]\nType=oneshot\nExecStart=%s\n' % (description, line)),
                timer: ('# Written by wayscloud.databases; edits are lost.\n[Unit]\nDescription=%s\n\n'
                        '[Timer]\nOnCalendar=%s\nPersistent=true\nUnit=%s.service\n\n[Install]\n'
                        'WantedBy=timers.target\n' % (description, calendar, name)),
            }
        return {self.files(name)[0]: (
            '# %s\n# Written by wayscloud.databases; edits are lost.\nSHELL=/bin/sh\n'
            'PATH=/usr/sbin:/usr/bin:/sbin:/bin\n%s root %s\n' % (description, cron, line))}

    def drift(self, files):
        """{path: (as found, as it would be)} of the rendered ``files`` ({path: text}) that writing them would change."""
        return files_drift(dict((path, (text, JOB_FILE_MODE)) for path, text in files.items()))

    def leftovers(self, name):
        """{path: (as found, as it would be)} of a job's files that removing it takes away."""
        return dict((path, ('present', 'removed')) for path in self.files(name) if os.path.lexists(path))

    def install(self, name, files):
        """Write a job's rendered files (unchanged ones are left alone); True if anything changed."""
        folder = self.unit_dir if self.driver == 'systemd' else self.cron_dir
        if not os.path.isdir(folder):
            os.makedirs(folder, mode=0o755)
        changed = False
        for path, text in sorted(files.items()):
            changed = write_if_changed(path, text, JOB_FILE_MODE) or changed
        if changed and self.driver == 'systemd':
            self.run(['systemctl', 'daemon-reload'])
            self.run(['systemctl', 'enable', '--now', name + '.timer'])
        return changed

    def remove(self, name):
        """Take the job away; True if there was one."""
        if not self.leftovers(name):
            return False
        if self.driver == 'systemd':
            self.run(['systemctl', 'disable', '--now', name + '.timer'])
        for path in self.files(name):
            remove_file(path)
        if self.driver == 'systemd':
            self.run(['systemctl', 'daemon-reload'])
        return True


def holds(path, text):
    """Whether the file at ``path`` says exactly ``text``."""
    try:
        with open(path) as handle:
            return handle.read() == text
    except (IOError, OSError):
        return False
