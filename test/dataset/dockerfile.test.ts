import { describe, expect, it } from 'vitest';
import {
  DockerfileEnvError,
  extractDockerfileEnv,
  logicalLines,
  parseDockerfileEnv,
} from '../../src/dataset/dockerfile.ts';

describe('parseDockerfileEnv', () => {
  it('reads ENV K=V and the legacy ENV K V form', () => {
    expect(parseDockerfileEnv('FROM x\nENV A=1\nENV B two words\n')).toEqual({ A: '1', B: 'two words' });
  });
  it('reads several pairs in one instruction, case-insensitive keyword', () => {
    expect(parseDockerfileEnv('env A=1 B=2   C=3')).toEqual({ A: '1', B: '2', C: '3' });
  });
  it('removes double and single quotes and keeps spaces inside them', () => {
    expect(parseDockerfileEnv(`ENV A="x y" B='p q' C=a"b c"d`)).toEqual({ A: 'x y', B: 'p q', C: 'ab cd' });
    expect(parseDockerfileEnv(`ENV A "quoted legacy"`)).toEqual({ A: 'quoted legacy' });
  });
  it('handles escapes: in double quotes, in single quotes (literal), and bare', () => {
    expect(parseDockerfileEnv(String.raw`ENV A="say \"hi\" \\ \$HOME \n" B='no \escape' C=sp\ ace`)).toEqual({
      A: 'say "hi" \\ $HOME \\n',
      B: 'no \\escape',
      C: 'sp ace',
    });
  });
  it('joins continuation lines and drops comments and blank lines inside them', () => {
    const text = ['ENV A=1 \\', '    # a comment', '', '    B=2 \\', '    C="x \\', 'y"', 'RUN true'].join('\n');
    expect(parseDockerfileEnv(text)).toEqual({ A: '1', B: '2', C: 'x y' });
  });
  it('ignores comment lines, other instructions and ENV inside a heredoc body', () => {
    const text = ['# ENV NOT=comment', 'RUN <<EOF', 'ENV NOT=heredoc', 'EOF', 'ENV YES=1', 'RUN echo "1<<2"', 'ENV ALSO=2'].join('\n');
    expect(parseDockerfileEnv(text)).toEqual({ YES: '1', ALSO: '2' });
  });
  it('handles CRLF line endings', () => {
    expect(parseDockerfileEnv('ENV A=1 \\\r\n  B=2\r\nENV C 3\r\n')).toEqual({ A: '1', B: '2', C: '3' });
  });
  it('substitutes variables set earlier and by ARG defaults; keeps unknown references for the shell', () => {
    const text = [
      'ARG GO_VERSION=1.22',
      'ENV GOROOT=/usr/local/go',
      'ENV PATH=$GOROOT/bin:${PATH} V=go${GO_VERSION} W=${UNSET:-dflt} X=${GOROOT:+set} Y=${GOROOT:-unused}',
    ].join('\n');
    expect(parseDockerfileEnv(text)).toEqual({
      GOROOT: '/usr/local/go',
      PATH: '/usr/local/go/bin:${PATH}',
      V: 'go1.22',
      W: '${UNSET:-dflt}',
      X: 'set',
      Y: '/usr/local/go',
    });
  });
  it('lets every value of one instruction see the variables as they were before it, as Docker does', () => {
    expect(parseDockerfileEnv('ENV A=old\nENV A=new B=$A')).toEqual({ A: 'new', B: 'old' });
  });
  it('forgets ARGs at a new FROM stage but keeps ENV', () => {
    expect(parseDockerfileEnv('ARG V=1\nFROM x\nENV A=$V B=c')).toEqual({ A: '$V', B: 'c' });
  });
  it('throws a clear error for an unreadable ENV instruction, naming the line', () => {
    expect(() => parseDockerfileEnv('FROM x\nENV A="open')).toThrow(DockerfileEnvError);
    expect(() => parseDockerfileEnv('FROM x\nENV A="open')).toThrow(/line 2: unterminated " quote/);
    expect(() => parseDockerfileEnv('ENV')).toThrow(/line 1: ENV needs at least one name/);
    expect(() => parseDockerfileEnv('ENV A=1 junk')).toThrow(/ENV expects NAME=value pairs, got "junk"/);
    expect(() => parseDockerfileEnv('ENV LONELY')).toThrow(/ENV LONELY has no value/);
    expect(() => parseDockerfileEnv('ENV 1A=x')).toThrow(/ENV expects NAME=value pairs/);
  });
});

describe('extractDockerfileEnv', () => {
  it('applies the instance Dockerfile on top of the base one, which it can reference and override', () => {
    const base = 'FROM debian\nENV APP=/app MODE=dev\n';
    const instance = 'FROM base\nENV MODE=test\nENV PYTEST_ADDOPTS="--rootdir=$APP -q"\n';
    expect(extractDockerfileEnv(base, instance)).toEqual({ APP: '/app', MODE: 'test', PYTEST_ADDOPTS: '--rootdir=/app -q' });
  });
});

describe('logicalLines', () => {
  it('numbers each instruction by its first line', () => {
    expect(logicalLines('# c\nFROM x\nENV A=1 \\\n B=2\nRUN y')).toEqual([
      { line: 2, instruction: 'FROM x' },
      { line: 3, instruction: 'ENV A=1  B=2' },
      { line: 5, instruction: 'RUN y' },
    ]);
  });
});

