from a2a_cli.cli.app import main

main()
