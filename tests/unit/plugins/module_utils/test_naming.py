# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest

from ansible_collections.wayscloud.databases.plugins.module_utils import naming
from ansible_collections.wayscloud.databases.plugins.module_utils.naming import ValidationError


def test_technical_name_follows_the_api_scheme():
    assert naming.technical_name('postgresql', '6dd1d906', 'webapp_prod_db') == 'cust_6dd1d906_pg_webapp_prod_db'
    assert naming.technical_name('mariadb', 'abc', 'x') == 'cust_abc_mdb_x'


@pytest.mark.parametrize('requested_name', [
    "x'; DROP DATABASE postgres; --", 'semi;colon', 'with space', 'quote"d', 'back`tick', 'ünïcödé',
    'dash-ed', 'dot.ted', '', 'nul\x00byte', 'ｆｕｌｌｗｉｄｔｈ', 'new\nline', '../etc', 'a' * 31,
])
def test_bad_requested_names_are_refused_naming_the_field(requested_name):
    with pytest.raises(ValidationError, match='requested_name'):
        naming.technical_name('postgresql', 'c1', requested_name)


def test_thirty_characters_are_allowed():
    assert naming.technical_name('mariadb', 'c1', 'a' * 30).endswith('a' * 30)


@pytest.mark.parametrize('customer_id', ['a-b', 'a_b', '', 'ä', "1'"])
def test_bad_customer_ids_are_refused(customer_id):
    with pytest.raises(ValidationError, match='customer_id'):
        naming.technical_name('postgresql', customer_id, 'app')


def test_names_longer_than_identifiers_hold_are_refused():
    with pytest.raises(ValidationError, match='at most 63'):
        naming.technical_name('mariadb', 'c' * 24, 'a' * 30)
    assert len(naming.technical_name('postgresql', 'c' * 24, 'a' * 30)) == 63


def test_unknown_db_type():
    with pytest.raises(ValidationError, match='db_type must be one of postgresql, mariadb'):
        naming.technical_name('oracle', 'c1', 'app')


def test_parse_round_trips():
    assert naming.parse_technical_name('postgresql', 'cust_6dd1d906_pg_webapp_prod_db') == ('6dd1d906', 'webapp_prod_db')


@pytest.mark.parametrize('name, message', [
    ('cust_c1_mdb_app', 'is a MariaDB name but db_type is postgresql'),
    ('customer_c1_pg_app', 'name must look like'),
    ('cust_c1_pg_', 'name must look like'),
    ('cust_c1_pg_a;b', 'name must look like'),
    ('cust_c1_pg_' + 'a' * 31, 'requested_name must be at most 30'),
])
def test_parse_refuses_foreign_and_malformed_names(name, message):
    with pytest.raises(ValidationError, match=message):
        naming.parse_technical_name('postgresql', name)


@pytest.mark.parametrize('limit', [9, 1001, -1, 0, True, '50', 50.5])
def test_connection_limit_bounds_and_types(limit):
    with pytest.raises(ValidationError, match='connection_limit'):
        naming.check_connection_limit(limit)


@pytest.mark.parametrize('limit', [None, 10, 1000])
def test_connection_limit_accepts_range_and_none(limit):
    assert naming.check_connection_limit(limit) == limit


def test_description_rules():
    assert naming.check_description('') == ''
    with pytest.raises(ValidationError, match='at most 1024'):
        naming.check_description('x' * 1025)
    with pytest.raises(ValidationError, match='NUL'):
        naming.check_description('a\x00b')


def test_db_type_of_a_name():
    assert naming.db_type_of('cust_c1_mdb_app') == 'mariadb'
    assert naming.db_type_of('cust_c1_pg_a_b') == 'postgresql'
    for bad in ('cust_c1_xx_app', 'cust_c1_pg_', 'x', None, 'cust_c1_pg_' + 'a' * 31):
        with pytest.raises(ValidationError):
            naming.db_type_of(bad)
