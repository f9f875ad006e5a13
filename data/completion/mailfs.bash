# bash completion for mailfs(1): subcommands, accounts of the accounts file,
# options, mount options.  Needs nothing from the bash-completion package.

# The accounts of the accounts file named on the line (--config FILE or
# -o config=FILE) or of the default one.
_mailfs_accounts()
{
	local cfg="${XDG_CONFIG_HOME:-$HOME/.config}/mailfs/config" i w
	for ((i = 1; i < ${#COMP_WORDS[@]}; i++)); do
		w=${COMP_WORDS[i]}
		case $w in
		--config) cfg=${COMP_WORDS[i + 1]} ;;
		--config=*) cfg=${w#--config=} ;;
		*config=*) cfg=${w##*config=}; cfg=${cfg%%,*} ;;
		esac
	done
	cfg=${cfg/#\~/$HOME}
	[ -r "$cfg" ] || return
	sed -n 's/^[[:space:]]*\[account[[:space:]]\{1,\}\([^]]*\)\][[:space:]]*$/\1/p' "$cfg"
}

_mailfs()
{
	local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]}
	local cmd=${COMP_WORDS[1]} words
	local subs="status flush sync check login serve"
	local mount_opts="-f --foreground -d --debug --config -o -h --help -V --version"
	local o_opts="config= store= cache_dir= cache_size= writeback=on writeback=off entry_timeout= attr_timeout= ro allow_other"
	local serve_opts="--config --store --user --password-file --imap --pop3 --smtp --imaps --pop3s --smtps --ews --ewss --tls-cert --tls-key --max-clients --max-message-size -d --debug --help"

	COMPREPLY=()
	case $prev in
	--config | --password-file | --tls-cert | --tls-key)
		COMPREPLY=($(compgen -f -- "$cur"))
		return
		;;
	--store)
		COMPREPLY=($(compgen -d -- "$cur"))
		return
		;;
	-o)
		# complete the last item of a comma-separated list
		local head=${cur%,*} last=${cur##*,}
		[ "$head" = "$cur" ] && head= || head="$head,"
		COMPREPLY=($(compgen -P "$head" -W "$o_opts" -- "$last"))
		compopt -o nospace 2>/dev/null
		return
		;;
	esac
	case $cmd in
	status | flush)
		if [[ $cur == -* ]]; then
			[ "$cmd" = flush ] && COMPREPLY=($(compgen -W "--unmount" -- "$cur"))
		else
			COMPREPLY=($(compgen -d -- "$cur"))
		fi
		;;
	sync | check | login)
		if [[ $cur == -* ]]; then
			words="--config"
			[ "$cmd" = sync ] && words="$words --prefetch -o"
			[ "$cmd" = check ] && words="$words -d"
			COMPREPLY=($(compgen -W "$words" -- "$cur"))
		else
			COMPREPLY=($(compgen -W "$(_mailfs_accounts)" -- "$cur"))
		fi
		;;
	serve)
		COMPREPLY=($(compgen -W "$serve_opts" -- "$cur"))
		;;
	*)
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W "$mount_opts" -- "$cur"))
		elif [ "$COMP_CWORD" -eq 1 ]; then
			# a subcommand, an account, or straight a mount point
			COMPREPLY=($(compgen -W "$subs $(_mailfs_accounts)" -- "$cur")
				$(compgen -d -- "$cur"))
		else
			COMPREPLY=($(compgen -W "$(_mailfs_accounts)" -- "$cur")
				$(compgen -d -- "$cur"))
		fi
		;;
	esac
}
complete -F _mailfs mailfs
