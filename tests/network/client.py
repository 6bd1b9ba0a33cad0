# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Try to reach a database the way a customer would; print which layer answered.

    python client.py DB_TYPE HOST PORT USER DATABASE     (the password in WAYSCLOUD_CLIENT_PASSWORD)

Prints ``ok`` (logged in and ran a query), ``tcp-refused`` (no TCP connection: the packet filter),
or ``db-refused`` (TCP connected, the database server said no).
"""

import os
import socket
import sys


def main(db_type, host, port, user, database):
    port = int(port)
    try:
        socket.create_connection((host, port), timeout=2).close()
    except OSError:
        return 'tcp-refused'
    password = os.environ['WAYSCLOUD_CLIENT_PASSWORD']
    try:
        if db_type == 'postgresql':
            import psycopg2
            conn = psycopg2.connect(host=host, port=port, user=user, password=password, dbname=database,
                                    connect_timeout=5)
        else:
            import pymysql
            conn = pymysql.connect(host=host, port=port, user=user, password=password, database=database,
                                   connect_timeout=5)
    except Exception:  # pylint: disable=broad-except  # any refusal by the server is the answer
        return 'db-refused'
    with conn.cursor() as cursor:
        cursor.execute('SELECT 1')
    conn.close()
    return 'ok'


if __name__ == '__main__':
    print(main(*sys.argv[1:6]))
