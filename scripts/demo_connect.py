"""Prove each credentials file of the demo by connecting with it as the database's own user."""

import json
import pathlib
import sys
import urllib.parse

import psycopg2
import pymysql


def connect(credentials):
    url = urllib.parse.urlsplit(credentials['connection_string'])
    args = dict(host=url.hostname, port=url.port, user=url.username, password=credentials['password'])
    if url.scheme == 'postgresql':
        conn = psycopg2.connect(dbname=url.path[1:], connect_timeout=5, **args)
        query = 'SELECT current_user, current_database(), version()'
    else:
        conn = pymysql.connect(database=url.path[1:], connect_timeout=5, **args)
        query = 'SELECT CURRENT_USER(), DATABASE(), VERSION()'
    with conn.cursor() as cursor:
        cursor.execute(query)
        row = cursor.fetchone()
    conn.close()
    return row


def main(folder):
    files = sorted(pathlib.Path(folder).glob('*.json'))
    if not files:
        sys.exit('no credentials in %s' % folder)
    for path in files:
        credentials = json.loads(path.read_text())
        user, database, version = connect(credentials)
        version = version.split(' on ')[0].split(',')[0]
        print('connected: %s as %s to %s (%s)' % (credentials['connection_string'], user, database, version))


if __name__ == '__main__':
    main(sys.argv[1])
