# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The WaysCloud Databases API (../shared/api/databases-api.md) on top of the collection's host engine.

Not a mock: every request reaches a real PostgreSQL or MariaDB through the same code the host
backend uses. Configuration is one JSON file (see README.md here): API keys with their customer,
permissions and internal flag; quota; how to reach each engine; the catalog folder.

Ownership: a database of another customer answers 404, exactly like one that does not exist, so a
key cannot learn which names other customers use.

Limits hold on every path: a restore into a new database is a creation (database:create, a free place
in the quota, under the customer's lock); snapshots count toward storage_gb and each database holds at
most snapshot_limits.manual snapshots taken on request; customer keys may not open a database to every
address unless the operator allowed it (allow_any_address).
"""

import contextlib
import hmac
import json
import logging
import os
import secrets
import datetime
from enum import Enum
from typing import List, Optional

from fastapi import Depends, FastAPI, Header, HTTPException, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from commands import run

from ansible_collections.wayscloud.databases.plugins.module_utils import naming
from ansible_collections.wayscloud.databases.plugins.module_utils.errors import (
    BackendError, Conflict, LimitReached, NotFound)
from ansible_collections.wayscloud.databases.plugins.module_utils.host.catalog import Catalog
from ansible_collections.wayscloud.databases.plugins.module_utils.host.databases import HostDatabases
from ansible_collections.wayscloud.databases.plugins.module_utils.addresses import (
    check_rule_id, covers_everyone, normalize_address)
from ansible_collections.wayscloud.databases.plugins.module_utils.host.driver import ServerLogin
from ansible_collections.wayscloud.databases.plugins.module_utils.host.network import NETWORKS
from ansible_collections.wayscloud.databases.plugins.module_utils.vault import VaultStore
from ansible_collections.wayscloud.databases.plugins.module_utils.host.schedule import Schedule
from ansible_collections.wayscloud.databases.plugins.module_utils.host.overview import customer_usage, engine_entry
from ansible_collections.wayscloud.databases.plugins.module_utils.host.snapshots import check_limits, record_limits
from ansible_collections.wayscloud.databases.plugins.module_utils.backup_rules import POLICY_FIELDS
from ansible_collections.wayscloud.databases.plugins.module_utils.snapshot_rules import (
    check_snapshot_id, tagged_description, target_name)

PERMISSIONS = ('database:create', 'database:read', 'database:update', 'database:delete')
LOG = logging.getLogger('wayscloud.api_server')


class Frequency(str, Enum):
    hourly = 'hourly'
    daily = 'daily'
    weekly = 'weekly'


class DbType(str, Enum):
    postgresql = 'postgresql'
    mariadb = 'mariadb'


# ---------------------------------------------------------------- request and response bodies
class CreateDatabaseRequest(BaseModel):
    db_type: DbType = Field(..., description='Database type (postgresql or mariadb)')
    requested_name: Optional[str] = Field(None, pattern='^[A-Za-z0-9_]+$', max_length=naming.MAX_REQUESTED_NAME_LENGTH,
                                          description='Optional custom database name suffix (alphanumeric and'
                                          ' underscore only, max 30 chars). Creates deterministic name: cust_{customer_id}_')
    customer_id: Optional[str] = Field(None, pattern='^[A-Za-z0-9]+$',
                                       description='Target customer ID (internal API keys only)')


class NewCredentials(BaseModel):
    """What creation and rotation both answer: how to connect, with the password shown this once."""
    success: bool
    db_name: str
    username: str
    password: str
    host: str
    port: int
    connection_string: str


class CreateDatabaseResponse(NewCredentials):
    db_type: str
    message: str
    password_generated: bool = Field(False, description='True if password was auto-generated')
    idempotent: bool = Field(False, description='True if database already existed (no new creation)')


class DeleteDatabaseRequest(BaseModel):
    db_type: DbType
    db_name: str
    username: Optional[str] = None


class SuccessResponse(BaseModel):
    success: bool = True
    message: str = ''


class DeleteResponse(BaseModel):
    success: bool
    message: str


class RestartResponse(SuccessResponse):
    terminated_sessions: int = 0


class UpdateDatabaseRequest(BaseModel):
    connection_limit: Optional[int] = Field(None, ge=naming.CONNECTION_LIMIT_MIN, le=naming.CONNECTION_LIMIT_MAX,
                                            description='Maximum connections allowed (10-1000)')
    description: Optional[str] = Field(None, max_length=1024,
                                       description='Optional description/notes for this database')


class DatabaseItem(BaseModel):
    db_type: str
    db_name: str
    username: str
    customer_id: str
    host: str
    port: int
    connection_limit: Optional[int] = None
    description: Optional[str] = None
    created_at: Optional[str] = None
    connection_string: str


class DatabaseListResponse(BaseModel):
    db_type: str
    databases: List[DatabaseItem]


class Engine(BaseModel):
    db_type: str
    name: str
    version: Optional[str] = None
    available: bool
    capabilities: List[str]


class EnginesResponse(BaseModel):
    engines: List[Engine] = []


class DatabaseInfoResponse(BaseModel):
    db_name: str
    db_type: str
    size_mb: Optional[float] = None
    connection_count: Optional[int] = None
    connection_limit: Optional[int] = None
    created_at: Optional[str] = None
    owner: Optional[str] = None


class SnapshotRequest(BaseModel):
    description: Optional[str] = Field(None, max_length=1024, description='Optional description of snapshot')


class Snapshot(BaseModel):
    snapshot_id: str
    db_name: str
    db_type: str
    size_mb: Optional[float] = None
    created_at: str
    description: Optional[str] = None
    expires_at: Optional[str] = Field(None, description='When the snapshot goes (UTC): set when its database is'
                                      ' deleted, or for an automated one when its policy is disabled; null: kept')
    last_restore_id: Optional[str] = Field(None, description='Its last restore (null: never restored); a client'
                                           ' whose answer to a restore was lost reads it')
    last_restored_at: Optional[str] = Field(None, description='When its last restore finished (UTC)')
    last_restored_into: Optional[str] = Field(None, description='The database its last restore went into')


class SnapshotResponse(Snapshot):
    success: bool
    message: str


class SnapshotListResponse(BaseModel):
    db_name: str
    db_type: str
    snapshots: List[Snapshot]


class RestoreRequest(BaseModel):
    snapshot_id: str = Field(..., description='Snapshot ID to restore from')
    target_db_name: Optional[str] = Field(None, description='Optional: Restore to new database name')


class RestoreResponse(BaseModel):
    success: bool
    db_name: str
    snapshot_id: str
    message: str


class BackupPolicyRequest(BaseModel):
    enabled: bool = Field(..., description='Enable/disable automated backups')
    frequency: Optional[Frequency] = Field(None, description='Backup frequency')
    retention_days: Optional[int] = Field(None, description='How many days to keep backups')
    time_of_day: Optional[str] = Field(None, description='Time for daily backups (HH:MM format)')


class BackupPolicyResponse(BaseModel):
    db_name: str
    db_type: str
    enabled: bool
    frequency: str
    retention_days: int
    time_of_day: Optional[str] = None
    last_backup: Optional[str] = None
    next_backup: Optional[str] = None


class MetricsResponse(BaseModel):
    database_id: Optional[str] = None
    storage_gb: Optional[float] = Field(None, description='Storage used in GB')
    backup_gb: Optional[float] = Field(None, description='Backup storage in GB')
    active_connections: Optional[int] = Field(None, description='Current active connections')
    max_connections: Optional[int] = Field(None, description='Maximum connections allowed')
    total_queries: Optional[int] = Field(None, description='Total queries executed')
    queries_per_sec: Optional[float] = Field(None, description='Queries per second')
    cache_hit_ratio: Optional[float] = Field(None, description='Cache hit ratio percentage')
    cpu_percent: Optional[float] = Field(None, description='CPU usage percentage')
    memory_percent: Optional[float] = Field(None, description='Memory usage percentage')
    measured_at: Optional[str] = None


class QuotaResponse(BaseModel):
    used: int = Field(..., description='Number of databases created')
    limit: int = Field(..., description='Maximum databases allowed')
    storage_used_gb: float
    storage_limit_gb: float


class CredentialsResponse(BaseModel):
    host: str = Field(..., description='Database server hostname')
    port: int = Field(..., description='Database port')
    database: str = Field(..., description='Database name')
    username: str = Field(..., description='Database username')
    password: Optional[str] = Field(None, description='Database password (only shown once at creation)')
    connection_string: str = Field(..., description='Complete connection string')


class RotateResponse(NewCredentials):
    created_at: Optional[str] = None


class FirewallRuleRequest(BaseModel):
    ip_address: str = Field(..., description='IP address or CIDR block to whitelist')
    description: Optional[str] = Field(None, max_length=1024, description="Optional rule description (e.g., 'Office network')")


class FirewallRule(BaseModel):
    rule_id: str = Field(..., description='Unique rule identifier (UUID)')
    db_name: str = Field(..., description='Database name')
    db_type: str = Field(..., description='Database type')
    ip_address: str = Field(..., description='IP address or CIDR block')
    port: int = Field(..., description='Database port')
    description: Optional[str] = Field(None, description='Optional rule description')
    created_at: str


class FirewallRulesResponse(BaseModel):
    rules: List[FirewallRule]
    total: int = Field(..., description='Total number of rules')


class HistoryEntry(BaseModel):
    """One life of a database: created, and deleted unless it still exists."""
    db_type: str
    db_name: str
    customer_id: str
    username: Optional[str] = None
    created_at: Optional[str] = None
    deleted_at: Optional[str] = None


class ErrorResponse(BaseModel):
    detail: str


class HistoryResponse(BaseModel):
    history: List[HistoryEntry]
    total: int


# ---------------------------------------------------------------- configuration and keys
def flag(entry, name, default):
    value = entry.get(name, default)
    if not isinstance(value, bool):
        raise ValueError('%s in the server configuration must be true or false (got %r)' % (name, value))
    return value


class Key:
    """``allow_any_address``: whether a customer key may open a database to every address (the key's own
    setting, else the configuration's); internal keys always may."""

    def __init__(self, entry, allow_any_address=False):
        self.secret = entry['key']
        self.customer_id = naming.check_customer_id(entry['customer_id'])
        self.permissions = set(entry.get('permissions', ()))  # a key grants only what it lists
        unknown = self.permissions - set(PERMISSIONS)
        if unknown:
            raise ValueError('unknown permissions in key file: %s' % ', '.join(sorted(unknown)))
        self.internal = bool(entry.get('internal', False))
        self.allow_any_address = self.internal or flag(entry, 'allow_any_address', allow_any_address)

    def customer(self, requested):
        """The customer this request acts for: internal keys may name one, customer keys never."""
        if self.internal and requested:
            return naming.check_customer_id(requested)
        return self.customer_id


class Config:
    def __init__(self, path):
        with open(path) as handle:
            data = json.load(handle)
        self.keys = [Key(entry, flag(data, 'allow_any_address', False)) for entry in data['keys']]
        self.state_dir = data['state_dir']
        self.engines = dict((db_type, ServerLogin(**settings)) for db_type, settings in data['engines'].items())
        self.vault = data.get('vault')  # {url, token, mount?, prefix?}: credentials are kept there
        self.firewall_driver = data.get('firewall_driver', 'none')
        self.schedule = data.get('schedule', {})  # host/schedule.py Schedule options: driver, unit_dir, cron_dir
        quota = data.get('quota', {})
        self.default_quota = quota.get('default', {'databases': 20, 'storage_gb': 10})
        self.customer_quota = quota.get('customers', {})
        try:  # over the engine's defaults (host/snapshots.py SNAPSHOT_LIMITS); recorded for the host's backup job
            self.snapshot_limits = check_limits(data.get('snapshot_limits', {}))
        except naming.ValidationError as exc:
            raise ValueError('server configuration: %s' % exc)

    def quota(self, customer_id):
        return dict(self.default_quota, **self.customer_quota.get(customer_id, {}))


def load_config():
    path = os.environ.get('WAYSCLOUD_API_SERVER_CONFIG')
    if not path:
        raise RuntimeError('set WAYSCLOUD_API_SERVER_CONFIG to the server configuration file')
    return Config(path)


# Every operation may answer these, with {"detail": "..."}.
ERRORS = dict((status, {'model': ErrorResponse}) for status in (400, 401, 403, 404, 500))


@contextlib.asynccontextmanager
async def lifespan(server):
    """The configuration is read, and its snapshot limits recorded in the catalog, before the first request."""
    config()
    yield


app = FastAPI(title='WaysCloud Databases API', version='1.0.0', responses=ERRORS, lifespan=lifespan,
              description='PostgreSQL and MariaDB instances (reference implementation over the host engine)')


@app.exception_handler(NotFound)
def not_found(request: Request, exc: NotFound):
    return JSONResponse(status_code=404, content={'detail': str(exc)})


@app.exception_handler(Conflict)
def conflict(request: Request, exc: Conflict):
    return JSONResponse(status_code=400, content={'detail': str(exc)})


@app.exception_handler(LimitReached)
def limit_reached(request: Request, exc: LimitReached):
    """403 like a quota refusal: the account's limit, which deleting something (not retrying) gets past."""
    return JSONResponse(status_code=403, content={'detail': str(exc)})


@app.exception_handler(naming.ValidationError)
def invalid(request: Request, exc: naming.ValidationError):
    """The same shape as FastAPI's own validation errors, as the OpenAPI document says."""
    return JSONResponse(status_code=422, content={'detail': [{'loc': [], 'msg': str(exc), 'type': 'value_error'}]})


@app.exception_handler(BackendError)
def backend_failed(request: Request, exc: BackendError):
    """500, not 502/503: an engine's refusal is no reason for a client to try again."""
    return JSONResponse(status_code=500, content={'detail': str(exc)})


def config():
    if not hasattr(app.state, 'config'):
        cfg = load_config()
        catalog = Catalog(cfg.state_dir)
        try:
            record_limits(catalog, cfg.snapshot_limits)
        finally:
            catalog.close()
        app.state.config = cfg
    return app.state.config


def authenticated(x_api_key: Optional[str] = Header(None), cfg: Config = Depends(config)) -> Key:
    if x_api_key:
        for key in cfg.keys:
            if hmac.compare_digest(key.secret.encode(), x_api_key.encode()):
                return key
    raise HTTPException(status_code=401, detail='missing or invalid API key (X-API-Key)')


def need(key, permission):
    if permission not in key.permissions:
        raise HTTPException(status_code=403, detail="this API key lacks the '%s' permission" % permission)


@contextlib.contextmanager
def engine(cfg, db_type):
    login = cfg.engines.get(db_type)
    if login is None:
        raise HTTPException(status_code=400, detail='%s is not available on this server' % db_type)
    vault = VaultStore(**cfg.vault) if cfg.vault else None
    databases = HostDatabases(db_type, login, cfg.state_dir, vault=vault, network=NETWORKS[cfg.firewall_driver](run),
                              run=run, schedule=Schedule(run, **cfg.schedule))
    try:
        yield databases
    finally:
        databases.close()


def missing(db_type, db_name):
    """The one 404 of a database route: no such database, not a name of ours, or another customer's."""
    return HTTPException(status_code=404, detail='%s database %s not found' % (db_type, db_name))


def owned(key, db_type, db_name):
    """404 unless the database belongs to the key's customer (any customer for internal keys)."""
    try:
        customer_id = naming.parse_technical_name(db_type, db_name)[0]
    except naming.ValidationError:
        raise missing(db_type, db_name)
    if not key.internal and customer_id != key.customer_id:
        raise missing(db_type, db_name)


def database_route(key, cfg, db_type, db_name, *permissions, must_exist=True):
    """The opening of every route on one database, checked in this order: each permission (403), then the key's
    customer owns the database (404); on entering the ``with``, the engine (400) and, unless ``must_exist`` is false,
    the database on its server (404, like another customer's). The with yields the engine object.

    Permissions and ownership are checked on the call, the engine and the database on entering: a route that checks
    one of its own fields (422) does it between the two, so that a refused key hears 403 or 404 whatever it sent."""
    for permission in permissions:
        need(key, permission)
    owned(key, db_type, db_name)
    return _opened(cfg, db_type, db_name, must_exist)


@contextlib.contextmanager
def _opened(cfg, db_type, db_name, must_exist):
    with engine(cfg, db_type) as databases:
        if must_exist and databases.get(db_name) is None:
            raise missing(db_type, db_name)
        yield databases


def limits(cfg, databases, customer_id):
    """A customer's quota: the limits a DBA set in the host's catalog (wayscloud_database_quota), else the config's."""
    return databases.catalog.quota(customer_id) or cfg.quota(customer_id)


def usage(cfg, customer_id, opened):
    """(databases, GB) a customer uses on every engine; ``opened``, the request's engine, is used as it is."""
    count, size = 0, 0
    for db_type in cfg.engines:
        with contextlib.nullcontext(opened) if db_type == opened.db_type else engine(cfg, db_type) as databases:
            databases_used, bytes_used = customer_usage(databases, customer_id)
        count, size = count + databases_used, size + bytes_used
    return count, round(size / 1024.0 ** 3, 4)


def refuse_over_quota(cfg, databases, customer_id, new_database):
    """403 when storage (databases and snapshots) is at or over its limit, or a new database finds no free place."""
    quota = limits(cfg, databases, customer_id)
    used, used_gb = usage(cfg, customer_id, databases)
    if new_database and used >= quota['databases']:
        raise HTTPException(status_code=403, detail='quota exceeded: customer %s has %d of %d databases; delete one'
                            ' first' % (customer_id, used, quota['databases']))
    if used_gb >= quota['storage_gb']:
        raise HTTPException(status_code=403, detail='quota exceeded: customer %s uses %.4f of %.2f GB (databases and'
                            ' snapshots); delete snapshots or databases first'
                            % (customer_id, used_gb, quota['storage_gb']))


def create_within_quota(cfg, databases, customer_id, db_name, act):
    """``act()``, which makes database ``db_name`` (a creation, or a restore into a new database), after the quota
    check, as one step under the customer's lock: concurrent requests must not both pass the last free place. A
    database that exists already needs no place (``act`` finds it and changes nothing, or refuses)."""
    with databases.catalog.lock('customer', customer_id):
        if databases.get(db_name) is None:
            refuse_over_quota(cfg, databases, customer_id, new_database=True)
        return act()


# ---------------------------------------------------------------- routes (fixed paths before {db_type})
@app.post('/v1/databases', response_model=CreateDatabaseResponse, summary='Create database')
def create_database(body: CreateDatabaseRequest, key: Key = Depends(authenticated), cfg: Config = Depends(config)):
    need(key, 'database:create')
    customer_id = key.customer(body.customer_id)
    requested_name = body.requested_name
    if requested_name is None:
        requested_name = '%s_%s' % (datetime.datetime.now(datetime.timezone.utc).strftime('%Y%m%d'),
                                    secrets.token_hex(3))
    db_name = naming.technical_name(body.db_type.value, customer_id, requested_name)
    with engine(cfg, body.db_type.value) as databases:
        database, password, created = create_within_quota(cfg, databases, customer_id, db_name,
                                                          lambda: databases.create(customer_id, requested_name))
    return CreateDatabaseResponse(
        success=True, db_type=database['db_type'], db_name=database['db_name'], username=database['username'],
        password=password or '', host=database['host'], port=database['port'],
        connection_string=database['connection_string'], password_generated=created, idempotent=not created,
        message='database created' if created else 'database already exists; its password is not shown again')


def _delete(key, cfg, db_type, db_name, username):
    with database_route(key, cfg, db_type, db_name, 'database:delete') as databases:
        if username is not None and username != db_name:
            raise HTTPException(status_code=400, detail='username %s is not the user of %s' % (username, db_name))
        databases.delete(db_name, drop_user=username is not None)
        return DeleteResponse(success=True, message=delete_message(db_name, username, databases.warnings))


def delete_message(db_name, username, warnings):
    """A user kept for copies restored from the database's snapshots is said after '; ' (api/databases.py warns of
    it); the engine's other warnings are the server's own (they may name its files): logged, not answered."""
    kept = [warning for warning in warnings if warning.startswith('user %s stays: ' % db_name)]
    for warning in warnings:
        if warning not in kept:
            LOG.warning('deleting %s: %s', db_name, warning)
    return '; '.join(['database %s deleted%s' % (db_name, ' with its user' if username and not kept else '')] + kept)


@app.delete('/v1/databases', response_model=DeleteResponse, summary='Delete database')
def delete_database(body: DeleteDatabaseRequest, key: Key = Depends(authenticated), cfg: Config = Depends(config)):
    return _delete(key, cfg, body.db_type.value, body.db_name, body.username)


@app.get('/v1/databases/engines', response_model=EnginesResponse, summary='List database engines')
def list_engines(key: Key = Depends(authenticated), cfg: Config = Depends(config)):
    if not key.internal:
        raise HTTPException(status_code=403, detail='listing engines requires a service (internal) API key')
    engines = []
    for db_type in DbType:
        version = None
        if db_type.value in cfg.engines:
            with engine(cfg, db_type.value) as databases:
                try:
                    version = databases.driver.server_version()
                except BackendError:
                    version = None
        engines.append(Engine(**engine_entry(db_type.value, version)))
    return EnginesResponse(engines=engines)


@app.get('/v1/databases/history', response_model=HistoryResponse, summary='List database history')
def list_history(customer_id: Optional[str] = Query(None), key: Key = Depends(authenticated),
                 cfg: Config = Depends(config)):
    need(key, 'database:read')
    customer = key.customer(customer_id)
    with engine(cfg, next(iter(cfg.engines))) as databases:
        rows = databases.overview().history(customer)
    return HistoryResponse(history=[HistoryEntry(**row) for row in rows], total=len(rows))


@app.get('/v1/databases/{db_type}', response_model=DatabaseListResponse, summary='List databases by type')
def list_databases(db_type: DbType, customer_id: Optional[str] = Query(None), key: Key = Depends(authenticated),
                   cfg: Config = Depends(config)):
    need(key, 'database:read')
    customer = key.customer(customer_id)
    with engine(cfg, db_type.value) as databases:
        items = databases.list(customer)
    return DatabaseListResponse(db_type=db_type.value, databases=[DatabaseItem(**item) for item in items])


@app.delete('/v1/databases/{db_type}/{db_name}', response_model=DeleteResponse, summary='Delete database')
def delete_database_by_path(db_type: DbType, db_name: str, username: Optional[str] = Query(None),
                            key: Key = Depends(authenticated), cfg: Config = Depends(config)):
    return _delete(key, cfg, db_type.value, db_name, username)


@app.patch('/v1/databases/{db_type}/{db_name}', response_model=SuccessResponse, summary='Update database')
def update_database(db_type: DbType, db_name: str, body: UpdateDatabaseRequest, key: Key = Depends(authenticated),
                    cfg: Config = Depends(config)):
    with database_route(key, cfg, db_type.value, db_name, 'database:update') as databases:
        changes = dict((field, value) for field, value in body.model_dump().items() if value is not None)
        if changes:
            databases.update(db_name, changes)
    return SuccessResponse(message='updated: %s' % (', '.join(sorted(changes)) or 'nothing'))


@app.post('/v1/databases/{db_type}/{db_name}/restart', response_model=RestartResponse, summary='Restart database')
def restart_database(db_type: DbType, db_name: str, key: Key = Depends(authenticated), cfg: Config = Depends(config)):
    with database_route(key, cfg, db_type.value, db_name, 'database:update') as databases:
        terminated = databases.restart(db_name)
    return RestartResponse(message='terminated %d session(s)' % terminated, terminated_sessions=terminated)


@app.get('/v1/databases/{db_type}/{db_name}/credentials', response_model=CredentialsResponse,
         summary='Get database credentials')
def get_credentials(db_type: DbType, db_name: str, key: Key = Depends(authenticated), cfg: Config = Depends(config)):
    with database_route(key, cfg, db_type.value, db_name, 'database:read', must_exist=False) as databases:
        credentials = databases.credentials().get(db_name)
    return CredentialsResponse(**dict((k, v) for k, v in credentials.items() if k != 'created_at'))


@app.post('/v1/databases/{db_type}/{db_name}/credentials/rotate', response_model=RotateResponse,
          summary='Rotate database credentials')
def rotate_credentials(db_type: DbType, db_name: str, key: Key = Depends(authenticated),
                       cfg: Config = Depends(config)):
    with database_route(key, cfg, db_type.value, db_name, 'database:update', must_exist=False) as databases:
        credentials, password = databases.credentials().rotate(db_name)
    return RotateResponse(success=True, db_name=credentials['database'], username=credentials['username'],
                          password=password, host=credentials['host'], port=credentials['port'],
                          connection_string=credentials['connection_string'], created_at=credentials['created_at'])


@app.post('/v1/databases/{db_type}/{db_name}/firewall', response_model=FirewallRule, summary='Add firewall rule')
def add_firewall_rule(db_type: DbType, db_name: str, body: FirewallRuleRequest, key: Key = Depends(authenticated),
                      cfg: Config = Depends(config)):
    route = database_route(key, cfg, db_type.value, db_name, 'database:update', must_exist=False)
    ip_address = normalize_address(body.ip_address, ipv6=False, allow_any=True)  # the key decides, below
    with route as databases:
        firewall = databases.firewall()
        # The rules checked are the rules added to: two halves of every address sent at once meet here.
        with databases.catalog.lock('rules', '%s-%s' % (db_type.value, db_name)):
            if not key.allow_any_address:
                refuse_everyone(ip_address, [rule['ip_address'] for rule in firewall.list(db_name)])
            rule = firewall.add(db_name, ip_address, body.description)[0]
    return FirewallRule(**rule)


def refuse_everyone(ip_address, others):
    """403 when ``ip_address``, alone or with the database's other rules, admits every address."""
    if covers_everyone([ip_address]):
        reason = 'ip_address %s opens the database to every address' % ip_address
    elif covers_everyone([ip_address] + others):
        reason = 'ip_address %s with the database\'s rules for %s opens it to every address' % (
            ip_address, ', '.join(others))
    else:
        return
    raise HTTPException(status_code=403, detail='%s, which a customer key may not do unless the operator allows it'
                        ' (allow_any_address in the server configuration): allow only the networks that need access'
                        % reason)


@app.get('/v1/databases/{db_type}/{db_name}/firewall', response_model=FirewallRulesResponse,
         summary='List firewall rules')
def list_firewall_rules(db_type: DbType, db_name: str, key: Key = Depends(authenticated), cfg: Config = Depends(config)):
    with database_route(key, cfg, db_type.value, db_name, 'database:read', must_exist=False) as databases:
        rules = databases.firewall().list(db_name)
    return FirewallRulesResponse(rules=[FirewallRule(**rule) for rule in rules], total=len(rules))


@app.delete('/v1/databases/{db_type}/{db_name}/firewall/{rule_id}', response_model=SuccessResponse,
            summary='Delete firewall rule')
def delete_firewall_rule(db_type: DbType, db_name: str, rule_id: str, key: Key = Depends(authenticated),
                         cfg: Config = Depends(config)):
    route = database_route(key, cfg, db_type.value, db_name, 'database:update', must_exist=False)
    rule_id = check_rule_id(rule_id)
    with route as databases:
        rule = databases.firewall().remove(db_name, rule_id)
    return SuccessResponse(message='rule %s (%s) removed and verified' % (rule_id, rule['ip_address']))


@app.get('/v1/databases/{db_type}/{db_name}/info', response_model=DatabaseInfoResponse, summary='Get database info')
def database_info(db_type: DbType, db_name: str, key: Key = Depends(authenticated), cfg: Config = Depends(config)):
    with database_route(key, cfg, db_type.value, db_name, 'database:read', must_exist=False) as databases:
        info = databases.info(db_name)
    if info is None:
        raise missing(db_type.value, db_name)
    return DatabaseInfoResponse(**info)


def stored_snapshot(snapshot):
    """A snapshot as the API shows it: the description as stored (a label stays in its tag)."""
    fields = dict(snapshot, description=tagged_description(snapshot['description'], snapshot['label']))
    fields.pop('label')
    return fields


@app.post('/v1/databases/{db_type}/{db_name}/snapshots', response_model=SnapshotResponse, summary='Create snapshot')
def create_snapshot(db_type: DbType, db_name: str, body: Optional[SnapshotRequest] = None,
                    key: Key = Depends(authenticated), cfg: Config = Depends(config)):
    with database_route(key, cfg, db_type.value, db_name, 'database:read') as databases:
        customer_id = naming.parse_technical_name(db_type.value, db_name)[0]
        refuse_over_quota(cfg, databases, customer_id, new_database=False)
        snapshot = databases.snapshots().create(db_name, body.description if body else None)
    return SnapshotResponse(success=True, message='snapshot %s taken' % snapshot['snapshot_id'],
                            **stored_snapshot(snapshot))


@app.get('/v1/databases/{db_type}/{db_name}/snapshots', response_model=SnapshotListResponse, summary='List snapshots')
def list_snapshots(db_type: DbType, db_name: str, key: Key = Depends(authenticated), cfg: Config = Depends(config)):
    with database_route(key, cfg, db_type.value, db_name, 'database:read', must_exist=False) as databases:
        snapshots = databases.snapshots().list(db_name)
        rows = dict((row['snapshot_id'], row) for row in databases.catalog.snapshots(db_type.value, db_name))
    return SnapshotListResponse(db_name=db_name, db_type=db_type.value, snapshots=[Snapshot(
        last_restore_id=rows[snapshot['snapshot_id']]['restore_id'],
        last_restored_at=rows[snapshot['snapshot_id']]['restored_at'],
        last_restored_into=rows[snapshot['snapshot_id']]['restored_into'], **stored_snapshot(snapshot))
        for snapshot in snapshots])


@app.post('/v1/databases/{db_type}/{db_name}/restore', response_model=RestoreResponse, summary='Restore from snapshot')
def restore_snapshot(db_type: DbType, db_name: str, body: RestoreRequest, key: Key = Depends(authenticated),
                     cfg: Config = Depends(config)):
    """Into a new database (target_db_name) it is a creation too: database:create and a free place in the quota."""
    permissions = ('database:update',) if body.target_db_name is None else ('database:update', 'database:create')
    with database_route(key, cfg, db_type.value, db_name, *permissions, must_exist=False) as databases:
        snapshots = databases.snapshots()
        snapshots.get(db_name, body.snapshot_id)  # an unknown snapshot is 404, whatever the quota says

        def act():
            return snapshots.restore(db_name, body.snapshot_id, body.target_db_name)
        if body.target_db_name is None:
            target, changed = act()
        else:
            target = target_name(db_type.value, db_name, body.target_db_name)
            customer_id = naming.parse_technical_name(db_type.value, db_name)[0]
            target, changed = create_within_quota(cfg, databases, customer_id, target, act)
    return RestoreResponse(success=True, db_name=target, snapshot_id=body.snapshot_id,
                           message='%s %s from %s' % (target, 'restored' if changed else 'already restored',
                                                      body.snapshot_id))


@app.delete('/v1/databases/{db_type}/{db_name}/snapshots/{snapshot_id}', response_model=SuccessResponse,
            summary='Delete snapshot')
def delete_snapshot(db_type: DbType, db_name: str, snapshot_id: str, key: Key = Depends(authenticated),
                    cfg: Config = Depends(config)):
    route = database_route(key, cfg, db_type.value, db_name, 'database:delete', must_exist=False)
    check_snapshot_id(snapshot_id)
    with route as databases:
        if not databases.snapshots().delete(db_name, snapshot_id):
            raise HTTPException(status_code=404, detail='%s has no snapshot %s' % (db_name, snapshot_id))
    return SuccessResponse(message='snapshot %s deleted' % snapshot_id)


@app.get('/v1/databases/{db_type}/{db_name}/backup-policy', response_model=BackupPolicyResponse,
         summary='Get backup policy')
def get_backup_policy(db_type: DbType, db_name: str, key: Key = Depends(authenticated), cfg: Config = Depends(config)):
    with database_route(key, cfg, db_type.value, db_name, 'database:read', must_exist=False) as databases:
        return BackupPolicyResponse(**databases.backup_policy().get(db_name))


@app.put('/v1/databases/{db_type}/{db_name}/backup-policy', response_model=BackupPolicyResponse,
         summary='Set backup policy')
def set_backup_policy(db_type: DbType, db_name: str, body: BackupPolicyRequest, key: Key = Depends(authenticated),
                      cfg: Config = Depends(config)):
    """Fields left out keep their current values."""
    with database_route(key, cfg, db_type.value, db_name, 'database:update', must_exist=False) as databases:
        backups = databases.backup_policy()
        policy = dict((field, value) for field, value in backups.get(db_name).items() if field in POLICY_FIELDS)
        policy.update((field, value.value if isinstance(value, Enum) else value)
                      for field, value in body.model_dump().items() if value is not None)
        return BackupPolicyResponse(**backups.set(db_name, policy))


@app.get('/v1/databases/{db_type}/{db_name}/metrics', response_model=MetricsResponse, summary='Get database metrics')
def database_metrics(db_type: DbType, db_name: str, key: Key = Depends(authenticated), cfg: Config = Depends(config)):
    """From the newest samples of the host's collector, else a live reading (host/metrics.py)."""
    with database_route(key, cfg, db_type.value, db_name, 'database:read') as databases:
        return MetricsResponse(**databases.metrics(db_name))


@app.get('/v1/quota', response_model=QuotaResponse, summary='Get database quota')
def get_quota(customer_id: Optional[str] = Query(None), key: Key = Depends(authenticated),
              cfg: Config = Depends(config)):
    need(key, 'database:read')
    customer = key.customer(customer_id)
    with engine(cfg, next(iter(cfg.engines))) as databases:
        quota = limits(cfg, databases, customer)
        used, used_gb = usage(cfg, customer, databases)
    return QuotaResponse(used=used, limit=quota['databases'], storage_used_gb=used_gb,
                         storage_limit_gb=quota['storage_gb'])
