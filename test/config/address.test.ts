import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { AddressError, formatHostPort, parseHostPort, parseListen } from '../../src/config/index.js';

describe('parseListen', () => {
  const good: Array<[string, string, string[], number]> = [
    ['a single IPv4 host', '127.0.0.1:5432', ['127.0.0.1'], 5432],
    ['a host list ending in a bare IPv6 address: the last colon is the port', '127.0.0.1,10.0.0.4,::1:5432', ['127.0.0.1', '10.0.0.4', '::1'], 5432],
    ['a bracketed IPv6 address', '[::1]:5433', ['::1'], 5433],
    ['a list with a bracketed IPv6 address', '127.0.0.1,[fe80::1%eth0]:6000', ['127.0.0.1', 'fe80::1%eth0'], 6000],
    ['the * wildcard', '*:5432', ['*'], 5432],
    ['host names and spaces after commas', 'db1.example, localhost:65535', ['db1.example', 'localhost'], 65535],
  ];
  for (const [name, text, hosts, port] of good) {
    test(`accepts ${name}`, () => assert.deepEqual(parseListen(text), { hosts, port }));
  }

  const bad: Array<[string, string, RegExp]> = [
    ['no port', '127.0.0.1', /no ":port"/],
    ['port 0', '127.0.0.1:0', /port number 1-65535, got port 0/],
    ['port 65536', '127.0.0.1,::1:65536', /got port 65536/],
    ['a non-numeric port', 'localhost:pg', /got port "pg"/],
    ['an empty host in the list', '127.0.0.1,:5432', /empty host/],
    ['a host with a space inside', 'bad host:5432', /bad host "bad host"/],
  ];
  for (const [name, text, message] of bad) {
    test(`rejects ${name}`, () => assert.throws(() => parseListen(text), (err: unknown) => err instanceof AddressError && message.test(err.message)));
  }
});

describe('parseHostPort', () => {
  test('splits host and port', () => assert.deepEqual(parseHostPort('127.0.0.1:8008'), { host: '127.0.0.1', port: 8008 }));
  test('takes the last colon for a bare IPv6 host', () => assert.deepEqual(parseHostPort('::1:8008'), { host: '::1', port: 8008 }));
  test('strips brackets', () => assert.deepEqual(parseHostPort('[2001:db8::5]:8008'), { host: '2001:db8::5', port: 8008 }));
  test('rejects a host list', () => assert.throws(() => parseHostPort('a,b:8008'), /single host/));
  test('rejects an empty host unless allowed', () => {
    assert.throws(() => parseHostPort(':8008'), /empty host/);
    assert.deepEqual(parseHostPort(':8008', true), { host: '', port: 8008 });
  });
  test('formatHostPort brackets IPv6 and round-trips', () => {
    assert.equal(formatHostPort('::1', 5432), '[::1]:5432');
    assert.deepEqual(parseHostPort(formatHostPort('fe80::2', 1)), { host: 'fe80::2', port: 1 });
  });
});
