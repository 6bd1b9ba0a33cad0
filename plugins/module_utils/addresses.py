# -*- coding: utf-8 -*-
# Copyright: WaysCloud Databases developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Input that says where, checked before anything is touched: addresses, CIDR blocks, rule ids, service URLs."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import ipaddress
import uuid

try:  # the standard library only: the scheduled runner imports this without ansible installed
    from urllib.parse import urlparse
except ImportError:  # Python 2
    from urlparse import urlparse

from ansible_collections.wayscloud.databases.plugins.module_utils.naming import ValidationError

# Both engines always let a database's user in from these (pg_hba's local lines, MariaDB's local accounts); the
# access read back from either leaves them out.
LOOPBACK_NETWORKS = ('127.0.0.1/32', '::1/128')
# What "every address" means per family: all of IPv4, and for IPv6 every IPv4 client as a dual-stack socket
# sees it (::ffff:a.b.c.d), which ::/0 also holds.
_EVERYONE = {4: ipaddress.ip_network('0.0.0.0/0'), 6: ipaddress.ip_network('::ffff:0:0/96')}


def covers_everyone(networks):
    """Whether these networks (CIDR text), together, admit every address of a family."""
    networks = [ipaddress.ip_network(network) for network in networks]
    for version, everyone in _EVERYONE.items():
        merged = ipaddress.collapse_addresses(network for network in networks if network.version == version)
        if any(network.supernet_of(everyone) for network in merged):
            return True
    return False


def normalize_address(value, ipv6=True, allow_any=False):
    """``value`` as a network in CIDR form (192.0.2.7 -> 192.0.2.7/32), or a ValidationError saying why not."""
    text = value.strip() if isinstance(value, str) else ''
    if not text:
        raise ValidationError('ip_address must be an IP address or CIDR block (got %r)' % (value,))
    try:
        network = ipaddress.ip_network(text, strict=True)
    except ValueError:
        try:
            meant = ipaddress.ip_network(text, strict=False)
        except ValueError:
            raise ValidationError('ip_address must be an IPv4%s address or CIDR block such as 192.0.2.10 or'
                                  ' 192.0.2.0/24 (got %r)' % (' or IPv6' if ipv6 else '', text))
        raise ValidationError('ip_address %s has host bits set: the network is %s (or give the single address %s)'
                              % (text, meant, text.split('/')[0]))
    if network.version == 6 and not ipv6:
        raise ValidationError('ip_address must be IPv4 with backend=api: the WaysCloud API takes IPv4 only (got %s)'
                              % text)
    if not allow_any and covers_everyone([network]):
        raise ValidationError('ip_address %s opens the database to every address; set allow_any: true if that is'
                              ' meant' % text)
    return str(network)


def check_rule_id(value):
    """A rule id is a UUID in its canonical lower-case form."""
    try:
        if isinstance(value, str) and str(uuid.UUID(value)) == value.lower():
            return value.lower()
    except ValueError:
        pass
    raise ValidationError('rule_id must be a UUID such as 0b8e1c2e-5f4a-4c39-9d6e-3b0f0a8f2d11 (got %r)' % (value,))


def new_rule_id():
    return str(uuid.uuid4())


def check_service_url(option, url):
    """An http:// or https:// URL with a host: urllib would read a file:// URL from the local disk."""
    parts = urlparse(url) if isinstance(url, str) else None
    if parts is None or parts.scheme not in ('http', 'https') or not parts.netloc or any(c in url for c in '\x00\r\n '):
        raise ValidationError('%s must be an http:// or https:// URL such as https://api.example.com (got %r)' % (option, url))
    return url
