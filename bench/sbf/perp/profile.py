#!/usr/bin/env python3
"""Attributes the instructions of traced SBF runs to the harness's functions.

    profile.py OBJ SO TRACE.regs...

OBJ: the harness assembled from the linker's assembly output (`bench/sbf/perp/profile` makes
it: same flags as ../shared/tools/sbf/build plus `--emit=asm`, then `llvm-mc-22`), giving the
function symbols the stripped SO lacks. SO: the .so that was traced. TRACE.regs: register traces
of LiteSVM's `register-tracing` runner (12 u64 a step, the pc last). Each function of OBJ is
located in SO by its first six instructions' opcode and register bytes near its offset (the
linker's optimizer moves code by a few slots); code inlined into a function counts as that
function's. Prints instructions per trace, exclusive and inclusive, and calls per trace.
Instructions, not CU: syscalls (logging, memcpy) cost CU beyond their one instruction.
"""
import re,sys,struct,collections,subprocess,bisect
obj,sofile=sys.argv[1],sys.argv[2]
def section(f,name):
    out=subprocess.run(['llvm-objdump-22','-h',f],capture_output=True,text=True).stdout
    for l in out.splitlines():
        p=l.split()
        if len(p)>=4 and p[1]==name: return int(p[2],16),int(p[3],16)
# object .text bytes via objcopy
subprocess.run(['llvm-objcopy-22','-O','binary','--only-section=.text',obj,'/tmp/o.text'],check=True)
otext=open('/tmp/o.text','rb').read()
size,vma=section(sofile,'.text')
stext=open(sofile,'rb').read()[vma:vma+size]
syms=[]
for l in subprocess.run(['llvm-nm-22','-n','--defined-only',obj],capture_output=True,text=True).stdout.splitlines():
    a,t,n=l.split(None,2)
    if t in 'tT' and not n.startswith('LBB') and not n.startswith('.L'):
        syms.append((int(a,16)//8,n))
# only .text ones: those whose offset within otext and name not bcmp (in .text.unlikely?)
def key(text,i,k=6):
    return bytes(text[(i+j)*8+b] for j in range(k) for b in (0,1) if (i+j)*8+1<len(text))
mapping={}
for off,n in syms:
    if off*8>=len(otext): continue
    kk=key(otext,off)
    best=None
    for d in range(0,60):
        for s in (off-d,off+d):
            if 0<=s<size//8 and key(stext,s)==kk:
                best=s;break
        if best is not None: break
    if best is not None and best not in mapping: mapping[best]=n
print('mapped',len(mapping),'of',len(syms),file=sys.stderr)
keys=sorted(mapping)
def fn(pc):
    i=bisect.bisect_right(keys,pc)-1
    return mapping[keys[i]] if i>=0 else '?'
names=list(set(mapping.values()))
dm=subprocess.run(['c++filt'],input='\n'.join(names),capture_output=True,text=True).stdout.splitlines()
dem=dict(zip(names,dm))
traces=[open(p,'rb').read() for p in sys.argv[3:]]
excl=collections.Counter(); incl=collections.Counter(); calls=collections.Counter()
for d in traces:
    n=len(d)//96
    pcs=[struct.unpack_from('<Q',d,i*96+88)[0] for i in range(n)]
    stack=[]
    for i,pc in enumerate(pcs):
        f=fn(pc)
        excl[f]+=1
        for g in set(stack+[f]): incl[g]+=1
        op=stext[pc*8]
        nxt=pcs[i+1] if i+1<len(pcs) else None
        if (op==0x85 or op==0x8d) and nxt is not None and nxt!=pc+1:
            stack.append(f); calls[fn(nxt)]+=1
        elif op==0x95 and stack:
            stack.pop()
T=sum(excl.values()); N=len(traces)
clean=lambda k: re.sub(r"::h[0-9a-f]{16}","",dem.get(k,k))[:110]
print(f'traces {N}, insns/trace {T/N:.0f}')
print('exclusive:')
for k,v in excl.most_common(30): print(f'{v/N:8.0f} {100*v/T:5.1f}% {clean(k)}')
print('inclusive:')
for k,v in incl.most_common(40): print(f'{v/N:8.0f} {100*v/T:5.1f}% calls {calls[k]/N:5.1f} {clean(k)}')
