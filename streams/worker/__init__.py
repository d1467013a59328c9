"""The stream worker (`streamrec worker`): a Faust app that keeps online features fresh."""
