# wayscloud.databases: the two commands a newcomer needs are `make demo` and `make test`.
.PHONY: demo demo-clean test deps sanity unit integration lint api-server bench hardening tenant

demo:
	scripts/demo.sh

demo-clean:
	scripts/servers.sh stop .demo/servers
	rm -rf .demo

test:
	scripts/test.sh

bench:
	bench/run.sh

deps:
	scripts/bootstrap.sh

sanity:
	GATES="sanity-oldest sanity-newest" scripts/test.sh

unit:
	GATES="unit engine api-contract" scripts/test.sh

integration:
	GATES="integration schemathesis network" scripts/test.sh

hardening:
	GATES=hardening scripts/test.sh

tenant:
	GATES=tenant scripts/test.sh

lint:
	GATES=lint scripts/test.sh

api-server:
	scripts/api_server.sh run
