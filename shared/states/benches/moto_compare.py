"""Runs the benchmark definitions through moto's Step Functions interpreter
for a side-by-side per-transition time against `cargo bench -p states`.

Usage: python3 benches/moto_compare.py [--chain N] [--items N] [--rust-chain-us X] [--rust-map-us Y]
(defaults: 1,000-state chain, 10,000-item Map, as in benches/transitions.rs)."""

import argparse
import json
import time

import boto3
from moto import mock_aws


def pass_chain(n):
    states = {}
    for i in range(n):
        states[f"S{i}"] = {"Type": "Pass", "Next": f"S{i + 1}"} if i + 1 < n else {"Type": "Pass", "End": True}
    return {"StartAt": "S0", "States": states}


def map_def():
    # The legacy "Iterator" spelling: moto 5.2 fails to start a Map that uses
    # "ItemProcessor" (it cannot deep-copy it); the two mean the same.
    return {"StartAt": "M", "States": {"M": {"Type": "Map", "ItemsPath": "$.items", "End": True,
            "Iterator": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}}}}


def run(client, definition, payload):
    arn = client.create_state_machine(name=f"bench{time.monotonic_ns()}", definition=json.dumps(definition),
                                      roleArn="arn:aws:iam::123456789012:role/r")["stateMachineArn"]
    start = time.perf_counter()
    execution = client.start_execution(stateMachineArn=arn, input=json.dumps(payload))["executionArn"]
    while True:
        try:
            status = client.describe_execution(executionArn=execution)["status"]
        except TypeError:
            # moto deep-copies the execution while its worker thread mutates
            # it; a poll that races it fails and is simply repeated.
            status = "RUNNING"
        if status != "RUNNING":
            break
        time.sleep(0.0005)
    elapsed = time.perf_counter() - start
    if status != "SUCCEEDED":
        raise SystemExit(f"moto execution ended {status}")
    return elapsed


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--chain", type=int, default=1000)
    ap.add_argument("--items", type=int, default=10000)
    ap.add_argument("--rust-chain-us", type=float)
    ap.add_argument("--rust-map-us", type=float)
    args = ap.parse_args()
    # A fresh moto backend per run: reusing one after an execution finished
    # makes moto 5.2 fail to start the next (it deep-copies a lock).
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        client = boto3.client("stepfunctions", region_name="us-east-1")
        chain_us = run(client, pass_chain(args.chain), {"order": {"id": 42, "items": ["a", "b"]}}) * 1e6 / args.chain
    print(f"moto {args.chain}-state Pass chain: {chain_us:10.1f} µs/transition")
    if args.rust_chain_us:
        print(f"  ratio moto/states: {chain_us / args.rust_chain_us:,.0f}x")
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        client = boto3.client("stepfunctions", region_name="us-east-1")
        items = [{"i": i} for i in range(args.items)]
        map_us = run(client, map_def(), {"items": items}) * 1e6 / (args.items + 1)
    print(f"moto {args.items}-item Map:        {map_us:10.1f} µs/transition")
    if args.rust_map_us:
        print(f"  ratio moto/states: {map_us / args.rust_map_us:,.0f}x")

if __name__ == "__main__":
    main()
