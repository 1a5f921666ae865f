# A run of real programs for scripts/compare_native.sh (natively vs trace run vs replay).
set -e
export GIT_AUTHOR_DATE=2001-01-01T00:00:00Z GIT_COMMITTER_DATE=2001-01-01T00:00:00Z
git init -q sub && git -C sub config user.email a@b && git -C sub config user.name n && echo s > sub/s && git -C sub add s && git -C sub commit -qm s
git init -q main && cd main && git config user.email a@b && git config user.name n && git config protocol.file.allow always
echo 1 > a && git add a && git commit -qm one && echo 2 >> a && git commit -qam two && echo 3 >> a && git commit -qam three
GIT_SEQUENCE_EDITOR="sed -i 2s/^pick/squash/" GIT_EDITOR=true git rebase -q -i HEAD~2 && git log --oneline | wc -l
git format-patch -q -1 -o ../patches && git reset -q --hard HEAD~1 && git am -q ../patches/*.patch && git log --oneline | wc -l
git submodule -q add ../sub sm && git commit -qm sm && git submodule status | cut -c43- 
git mv a b && git commit -qm mv && git log --follow --oneline b | wc -l
git branch -q tmp && git checkout -q tmp && echo t > t && git add t && git commit -qm t && git checkout -q - && git cherry-pick tmp >/dev/null && ls
git stash list | wc -l && git tag -a v1 -m v1 && git describe
git notes add -m note HEAD && git notes show HEAD
git reflog | wc -l
git clean -ndx | wc -l
git grep -n 1 | head -2
git blame -s b | wc -l
git bundle create ../b.bundle --all 2>/dev/null && git bundle verify ../b.bundle 2>&1 | tail -1 | cut -c1-20
