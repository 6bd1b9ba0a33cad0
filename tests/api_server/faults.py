# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A fault-injecting HTTP proxy in front of the API server, driven by the tests.

    python faults.py --listen 127.0.0.1:PORT --upstream http://127.0.0.1:API_PORT

Tests queue faults with ``POST /__faults__`` and a JSON list of
``{"method": "GET", "path": "/v1/databases/", "fault": KIND, "count": 1, "seconds": 2, "retry_after": "1", "skip": 0}``
(``path`` matches as a prefix; ``skip`` lets that many matching requests through first, to reach the
n-th request of an operation). KIND is one of:
  status:NNN     answer NNN with a JSON detail, without forwarding (the server does nothing)
  slow           wait ``seconds``, then forward
  malformed      forward, then answer 200 with the first half of the real body
  reset          close the connection without forwarding (the server does nothing)
  lost           forward (the server does it), then close the connection without an answer
``GET /__faults__`` returns the log of requests seen and faults applied; ``DELETE /__faults__`` returns it and
clears the log and the queue.
"""

import argparse
import http.client
import json
import socket
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOCK = threading.Lock()
FAULTS = []
SEEN = []


def take_fault(method, path):
    with LOCK:
        for fault in list(FAULTS):
            if fault.get('method', method) == method and path.startswith(fault.get('path', '')):
                if fault.get('skip', 0) > 0:
                    fault['skip'] -= 1
                    return None
                fault['count'] = fault.get('count', 1) - 1
                if fault['count'] <= 0:
                    FAULTS.remove(fault)
                return dict(fault)
    return None


class Proxy(BaseHTTPRequestHandler):
    upstream = None
    protocol_version = 'HTTP/1.1'

    def log_message(self, format, *args):
        """Quiet: the log is served at /__faults__."""

    def _body(self):
        length = int(self.headers.get('Content-Length') or 0)
        return self.rfile.read(length) if length else None

    def _send(self, status, body, headers=None):
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _control(self, body):
        """GET: the log; POST: queue faults; DELETE: return the log, then clear it and the queue."""
        with LOCK:
            if self.command == 'POST':
                FAULTS.extend(json.loads(body or b'[]'))
            answer = {'seen': list(SEEN), 'pending': list(FAULTS)}
            if self.command == 'DELETE':
                del FAULTS[:]
                del SEEN[:]
        self._send(200, json.dumps(answer).encode(), {'Content-Type': 'application/json'})

    def _forward(self, body):
        target = urllib.parse.urlsplit(self.upstream)
        conn = http.client.HTTPConnection(target.hostname, target.port, timeout=60)
        headers = dict((name, value) for name, value in self.headers.items() if name.lower() not in ('host', 'connection'))
        conn.request(self.command, self.path, body=body, headers=headers)
        response = conn.getresponse()
        data = response.read()
        result = response.status, data, dict((name, value) for name, value in response.getheaders()
                                             if name.lower() not in ('content-length', 'connection', 'transfer-encoding',
                                                                     'date', 'server'))
        conn.close()
        return result

    def _drop(self):
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def _handle(self):
        body = self._body()
        path = urllib.parse.urlsplit(self.path).path
        if path == '/__faults__':
            return self._control(body)
        fault = take_fault(self.command, path)
        kind = fault['fault'] if fault else None
        with LOCK:
            SEEN.append({'method': self.command, 'path': path, 'fault': kind})
        if kind and kind.startswith('status:'):
            status = int(kind.split(':')[1])
            headers = {'Content-Type': 'application/json'}
            if fault.get('retry_after') is not None:
                headers['Retry-After'] = str(fault['retry_after'])
            return self._send(status, json.dumps({'detail': 'injected %d' % status}).encode(), headers)
        if kind == 'reset':
            return self._drop()
        if kind == 'slow':
            time.sleep(float(fault.get('seconds', 5)))
        status, data, headers = self._forward(body)
        if kind == 'lost':
            return self._drop()
        if kind == 'malformed':
            data = data[:max(1, len(data) // 2)]
            status = 200
        self._send(status, data, headers)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--listen', required=True, help='HOST:PORT')
    parser.add_argument('--upstream', required=True, help='base URL of the API server')
    args = parser.parse_args()
    host, port = args.listen.rsplit(':', 1)
    Proxy.upstream = args.upstream
    ThreadingHTTPServer((host, int(port)), Proxy).serve_forever()


if __name__ == '__main__':
    main()
