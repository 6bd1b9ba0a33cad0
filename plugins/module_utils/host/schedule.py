# -*- coding: utf-8 -*-
# Copyright: WaysCloud Databases developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""The host's schedule of one database's backups: a systemd timer where systemd runs, else a cron.d file.

Both run the same command (host/backup_runner.py explains it); only the files differ:
- systemd: ``wayscloud-backup-<db_type>-<db_name>.service`` and ``.timer`` in ``unit_dir``, the timer
  on the policy's UTC slots (OnCalendar ... UTC, Persistent=true so a slot missed while the host was
  down runs at boot), enabled with systemctl;
- cron: ``/etc/cron.d/wayscloud-backup-<db_type>-<db_name>`` running at minute MM of every hour; the
  runner takes a backup only in a due UTC slot, so the host's time zone does not matter.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import shlex
import tempfile

from ansible_collections.wayscloud.databases.plugins.module_utils.backups import cron_fields, on_calendar


def systemd_running():
    return os.path.isdir('/run/systemd/system')


def unit_name(db_type, db_name):
    return 'wayscloud-backup-%s-%s' % (db_type, db_name)


def write_if_changed(path, text, mode=0o644):
    """Atomically replace ``path`` when its content differs; True if it did."""
    try:
        with open(path) as handle:
            if handle.read() == text:
                return False
    except (IOError, OSError):
        pass
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
    """``driver``: systemd or cron; ``run(argv)``: the command runner (systemctl)."""

    def __init__(self, run, driver=None, unit_dir='/etc/systemd/system', cron_dir='/etc/cron.d'):
        self.run = run
        self.driver = driver or ('systemd' if systemd_running() else 'cron')
        self.unit_dir = unit_dir
        self.cron_dir = cron_dir

    def files(self, db_type, db_name):
        name = unit_name(db_type, db_name)
        if self.driver == 'systemd':
            return [os.path.join(self.unit_dir, name + '.service'), os.path.join(self.unit_dir, name + '.timer')]
        return [os.path.join(self.cron_dir, name)]

    def render(self, db_type, db_name, policy, command):
        """{path: text} of the schedule's files."""
        name = unit_name(db_type, db_name)
        line = ' '.join(shlex.quote(part) for part in command)
        description = 'WaysCloud backup of %s database %s (%s, %s UTC, keep %d days)' % (
            db_type, db_name, policy['frequency'], policy['time_of_day'], policy['retention_days'])
        if self.driver == 'systemd':
            service, timer = self.files(db_type, db_name)
            return {
                service: ('# Written by wayscloud.databases; edits are lost.\n[Unit]\nDescription=%s\n\n'
                          '[Service]\nType=oneshot\nExecStart=%s\n' % (description, line)),
                timer: ('# Written by wayscloud.databases; edits are lost.\n[Unit]\nDescription=%s\n\n'
                        '[Timer]\nOnCalendar=%s\nPersistent=true\nUnit=%s.service\n\n[Install]\n'
                        'WantedBy=timers.target\n' % (description, on_calendar(policy), name)),
            }
        return {self.files(db_type, db_name)[0]: (
            '# %s\n# Written by wayscloud.databases; edits are lost.\nSHELL=/bin/sh\n'
            'PATH=/usr/sbin:/usr/bin:/sbin:/bin\n%s root %s\n' % (description, cron_fields(policy), line))}

    def install(self, db_type, db_name, policy, command):
        """Write the files (unchanged ones are left alone); True if anything changed."""
        folder = self.unit_dir if self.driver == 'systemd' else self.cron_dir
        if not os.path.isdir(folder):
            os.makedirs(folder, mode=0o755)
        changed = False
        for path, text in sorted(self.render(db_type, db_name, policy, command).items()):
            changed = write_if_changed(path, text) or changed
        if changed and self.driver == 'systemd':
            self.run(['systemctl', 'daemon-reload'])
            self.run(['systemctl', 'enable', '--now', unit_name(db_type, db_name) + '.timer'])
        return changed

    def installed(self, db_type, db_name):
        return any(os.path.exists(path) for path in self.files(db_type, db_name))

    def remove(self, db_type, db_name):
        """Take the schedule away; True if there was one."""
        if not self.installed(db_type, db_name):
            return False
        if self.driver == 'systemd':
            self.run(['systemctl', 'disable', '--now', unit_name(db_type, db_name) + '.timer'])
        for path in self.files(db_type, db_name):
            remove_file(path)
        if self.driver == 'systemd':
            self.run(['systemctl', 'daemon-reload'])
        return True
