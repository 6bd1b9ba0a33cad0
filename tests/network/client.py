# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Try to reach a database the way a customer would; print which layer answered.

    python client.py DB_TYPE HOST PORT USER DATABASE       (the password in WAYSCLOUD_CLIENT_PASSWORD)
    python client.py hold DB_TYPE HOST PORT USER DATABASE

Prints ``ok`` (logged in and ran a query), ``tcp-refused`` (no TCP connection: the packet filter),
or ``db-refused`` (TCP connected, the database server said no). With ``hold`` it keeps the session
and, for each line read from stdin, runs a query on it and prints ``ok``, or ``gone`` once the server
has ended it.
"""

import os
import socket
import sys


def connect(db_type, host, port, user, database):
    password = os.environ['WAYSCLOUD_CLIENT_PASSWORD']
    if db_type == 'postgresql':
        import psycopg2
        return psycopg2.connect(host=host, port=port, user=user, password=password, dbname=database, connect_timeout=5)
    import pymysql
    return pymysql.connect(host=host, port=port, user=user, password=password, database=database, connect_timeout=5)


def hold(db_type, host, port, user, database):
    conn = connect(db_type, host, int(port), user, database)
    print('ok', flush=True)
    for dummy in sys.stdin:
        try:
            with conn.cursor() as cursor:
                cursor.execute('SELECT 1')
            print('ok', flush=True)
        except Exception:  # pylint: disable=broad-except  # any failure means the session is gone
            print('gone', flush=True)
            return


def main(db_type, host, port, user, database):
    port = int(port)
    try:
        socket.create_connection((host, port), timeout=2).close()
    except OSError:
        return 'tcp-refused'
    try:
        conn = connect(db_type, host, port, user, database)
    except Exception:  # pylint: disable=broad-except  # any refusal by the server is the answer
        return 'db-refused'
    with conn.cursor() as cursor:
        cursor.execute('SELECT 1')
    conn.close()
    return 'ok'


if __name__ == '__main__':
    if sys.argv[1] == 'hold':
        hold(*sys.argv[2:7])
    else:
        print(main(*sys.argv[1:6]))
